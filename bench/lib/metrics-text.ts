/** Reads driftwatch_check_runs_total out of a /metrics text: total runs per check (both results). */
export function runsPerCheck(text: string): Map<string, number> {
  const runs = new Map<string, number>();
  const prefix = 'driftwatch_check_runs_total{';
  for (let at = text.indexOf(prefix); at >= 0; at = text.indexOf(prefix, at + 1)) {
    const end = text.indexOf('\n', at);
    const line = text.slice(at, end < 0 ? undefined : end);
    const check = /[{,]check="([^"]*)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (check !== undefined && Number.isFinite(value)) runs.set(check, (runs.get(check) ?? 0) + value);
  }
  return runs;
}
