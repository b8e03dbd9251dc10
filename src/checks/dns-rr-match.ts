import { z } from 'zod';
import { matchesPattern, regex } from './pattern.js';

/*
 * Regular expressions over whole records, as blackbox_exporter's dns prober has them
 * (validate_answer_rrs and its authority and additional siblings). A record reads as miekg/dns
 * prints it: `www.example.com.<TAB>300<TAB>IN<TAB>A<TAB>192.0.2.1`.
 */
const patterns = z.array(regex).min(1);

export const rrPatterns = z
  .strictObject({
    failIfMatches: patterns.optional().meta({ description: 'fail if any record matches one of these' }),
    failIfAllMatch: patterns.optional().meta({ description: 'fail if every record matches one of these (and there is one)' }),
    failIfNotMatches: patterns.optional().meta({ description: 'fail if a record does not match one of these (or there is none)' }),
    failIfNoneMatches: patterns.optional().meta({ description: 'fail if no record matches one of these' }),
  })
  .meta({ description: 'regular expressions over the records of a section, as blackbox_exporter validate_*_rrs' });
export type RrPatterns = z.infer<typeof rrPatterns>;

export const SECTIONS = [
  ['answerRrs', 'answer'],
  ['authorityRrs', 'authority'],
  ['additionalRrs', 'additional'],
] as const;

export const rrFields = {
  answerRrs: rrPatterns.optional(),
  authorityRrs: rrPatterns.optional(),
  additionalRrs: rrPatterns.optional(),
};

type Sections = Record<(typeof SECTIONS)[number][1], string[]>;

/** Each unmet pattern of each section, naming the section, the pattern and a record that decided it. */
export function rrProblems(expect: Partial<Record<(typeof SECTIONS)[number][0], RrPatterns | undefined>>, sections: Sections): string[] {
  const problems: string[] = [];
  for (const [key, section] of SECTIONS) {
    const want = expect[key];
    if (!want) continue;
    const records = sections[section];
    const show = (record: string) => JSON.stringify(record);
    // Phrased as what was expected, as the check's message reads "answered X, expected Y".
    for (const p of want.failIfMatches ?? []) {
      const hit = records.find((r) => matchesPattern(p, r));
      if (hit !== undefined) problems.push(`no ${section} record to match /${p}/ (${show(hit)} does)`);
    }
    for (const p of want.failIfNotMatches ?? []) {
      const miss = records.find((r) => !matchesPattern(p, r));
      if (records.length === 0) problems.push(`${section} records, every one matching /${p}/ (there are none)`);
      else if (miss !== undefined) problems.push(`every ${section} record to match /${p}/ (${show(miss)} does not)`);
    }
    for (const p of want.failIfAllMatch ?? []) {
      if (records.length > 0 && records.every((r) => matchesPattern(p, r))) problems.push(`some ${section} record not to match /${p}/ (all ${records.length} do)`);
    }
    for (const p of want.failIfNoneMatches ?? []) {
      if (!records.some((r) => matchesPattern(p, r))) problems.push(`a ${section} record matching /${p}/ (none of ${records.length} does)`);
    }
  }
  return problems;
}
