import { RE2JS } from 're2js';
import { z } from 'zod';
import { matchOffThread } from './pattern-thread.js';

/*
 * Every regular expression of a check file runs in RE2's linear-time engine (re2js, a pure
 * JavaScript port), never in V8's backtracking one: the text comes from targets, and a 28-byte
 * body against ^(a+)+$ froze the whole daemon for seconds. RE2 syntax is also what
 * blackbox_exporter and Prometheus use (Go's regexp), so an imported module's pattern means here
 * what it meant there (\A, [[:punct:]], (?i) included). Lookaround and backreferences, which
 * need backtracking, are refused when the file is loaded.
 */

/** Compiled patterns by source: each distinct pattern is compiled once (a {release} pattern once per release). */
const compiled = new Map<string, RE2JS>();
const MAX_CACHED = 10_000;

/** The pattern compiled by RE2; throws RE2's syntax error for an invalid one. */
export function compilePattern(source: string): RE2JS {
  let re = compiled.get(source);
  if (re === undefined) {
    re = RE2JS.compile(source);
    if (compiled.size >= MAX_CACHED) compiled.clear();
    compiled.set(source, re);
  }
  return re;
}

/** Why a pattern is not valid RE2 syntax, or undefined when it is. */
export function patternProblem(source: string): string | undefined {
  try {
    compilePattern(source);
    return undefined;
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err);
    return `invalid regular expression (RE2 syntax: no lookaround or backreferences): ${why}`;
  }
}

/** A regular expression (RE2 syntax), checked when the file is loaded. */
export const regex = z.string().superRefine((text, ctx) => {
  const problem = patternProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/** Whether the pattern matches anywhere in the text (Go's MatchString), on this thread: for short text. */
export function matchesPattern(source: string, text: string): boolean {
  return compilePattern(source).matcher(text).find();
}

/**
 * Text up to this long is matched on the event loop: RE2's worst case measured here is about
 * 150 ms per MB (a nested class under a star), so 64 KiB stays under 10 ms. Longer text (a body
 * may be up to 64 MiB) is matched on a worker thread the run's signal can stop.
 */
export const INLINE_TEXT = 64 * 1024;

/** For each pattern, whether it matches the text; off the event loop for long text, abandoned when the signal aborts. */
export async function matchPatterns(sources: readonly string[], text: string, signal: AbortSignal): Promise<boolean[]> {
  if (sources.length === 0) return [];
  if (text.length <= INLINE_TEXT) return sources.map((source) => matchesPattern(source, text));
  return matchOffThread(sources, text, signal);
}
