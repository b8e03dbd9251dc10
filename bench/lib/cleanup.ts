/**
 * Everything a benchmark starts registers how to stop it here; it is stopped in reverse order at
 * the end, on an error, and on Ctrl-C or SIGTERM, so no nginx, knotd or daemon outlives a run.
 */
type Stop = () => Promise<void> | void;

const stops: { name: string; stop: Stop }[] = [];
let running: Promise<void> | undefined;

export function onCleanup(name: string, stop: Stop): () => void {
  const entry = { name, stop };
  stops.push(entry);
  return () => {
    const index = stops.indexOf(entry);
    if (index >= 0) stops.splice(index, 1);
  };
}

export function cleanup(): Promise<void> {
  running ??= (async () => {
    for (let entry = stops.pop(); entry !== undefined; entry = stops.pop()) {
      try {
        await entry.stop();
      } catch (err) {
        process.stderr.write(`cleanup of ${entry.name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    running = undefined;
  })();
  return running;
}

/** Runs main, always cleans up, and exits 130 on Ctrl-C after cleaning up. */
export async function runBenchmark(main: () => Promise<number>): Promise<void> {
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping everything this benchmark started\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let code = 1;
  try {
    code = await main();
  } catch (err) {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  } finally {
    await cleanup();
  }
  process.exitCode = code;
}
