import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings for the long-running daemon (`serve`), chosen by measurement (bench scale at
 * 100,000 checks, bench/README.md "Heap tuning"):
 *
 * - No allocation-site pretenuring. V8 marks an allocation site "tenured" when most of what it
 *   made survived a young collection, and from then on allocates there straight into the old
 *   space. A daemon's busy moments (the first runs of a large check set, a long scrape, a major
 *   collection's marking) make the sites of a run's short-lived objects look long-lived; once
 *   tenured, every run's garbage went to the old space (some 3 KB per run), forcing a major
 *   collection every ~10 s whose marking of the whole state held the event loop 100-250 ms.
 * - The old space grows by half of what the last major collection left, at most. On a machine
 *   with plenty of memory V8 lets it grow up to four times that when collections are cheap: the
 *   daemon's resident memory then follows the collector's mood instead of its checks.
 *
 * Process-wide, so the run threads (worker threads) get them too. A flag the operator gave
 * node on its command line (either form) is left as given.
 */
export const SERVICE_V8_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring', '--heap-growing-percent=50'];

/** The flags of SERVICE_V8_FLAGS that `execArgv` (node's own options) does not already set. */
export function serviceFlagsToSet(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map(flagName));
  return SERVICE_V8_FLAGS.filter((flag) => !given.has(flagName(flag)));
}

/** Applies SERVICE_V8_FLAGS to this process (before the daemon loads its checks). */
export function tuneHeapForService(execArgv: readonly string[] = process.execArgv): void {
  for (const flag of serviceFlagsToSet(execArgv)) setFlagsFromString(flag);
}

/** `--no-allocation-site-pretenuring`, `--allocation_site_pretenuring=1` -> `allocation-site-pretenuring`. */
function flagName(arg: string): string {
  const name = arg.replace(/^--?/, '').split('=')[0] ?? '';
  return name.replace(/_/g, '-').replace(/^no-/, '');
}
