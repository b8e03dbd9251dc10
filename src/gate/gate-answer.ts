import type { Result } from '../results/result.js';
import { firstBrokenLinks, gateVerdict, type GateVerdict } from './broken-links.js';
import { summarySentence } from './summary.js';
import type { GateOutcome } from './wait.js';

/** A broken link as JSON: the failing check, why, and what it blocks. */
export interface BrokenLinkJson {
  name: string;
  type: string;
  reason: string;
  message: string;
  blocking: string[];
}

/** The gate endpoint's answer (POST /api/v1/gate, and the body of POST /api/v1/gate/flagger). */
export interface GateAnswer {
  /** true only when every selected check passes: the one field a caller's condition reads. */
  passed: boolean;
  verdict: GateVerdict;
  summary: string;
  /** The first failing check in dependency order that is not blocked; absent when none fails on its own. */
  firstBrokenLink?: BrokenLinkJson;
  brokenLinks: BrokenLinkJson[];
  release?: string;
  rounds: number;
  elapsedMs: number;
  /** In dependency order, each with its runs in this gate and, once it passed, when. */
  checks: (Result & { attempts: number; passedAfterMs?: number })[];
}

/** The answer for one gate outcome: the same verdict, sentence and broken links as `driftwatch run` prints. */
export function gateAnswer(outcome: GateOutcome, release: string | undefined): GateAnswer {
  const results = outcome.checks.map((c) => c.result);
  const links = firstBrokenLinks(results).map(({ result, blocking }) => ({ name: result.name, type: result.type, reason: result.reason ?? 'error', message: result.message, blocking }));
  const [first] = links;
  const verdict = gateVerdict(results);
  return {
    passed: verdict === 'passed',
    verdict,
    summary: summarySentence(results),
    ...(first !== undefined && { firstBrokenLink: first }),
    brokenLinks: links,
    ...(release !== undefined && { release }),
    rounds: outcome.rounds,
    elapsedMs: outcome.elapsedMs,
    checks: outcome.checks.map((c) => ({ ...c.result, attempts: c.attempts, ...(c.passedAfterMs !== undefined && { passedAfterMs: c.passedAfterMs }) })),
  };
}
