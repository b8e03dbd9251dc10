import type { LoadedCheck } from '../checks/registry.js';

/** Which checks a gate runs: by name (`run --only`, the gate endpoint's `checks`), by static label, or both. */
export interface CheckSelection {
  /** Only these checks; empty or absent: no filter by name. */
  names?: readonly string[] | undefined;
  /** Only checks whose static labels have every one of these values; absent: no filter by label. */
  labels?: Readonly<Record<string, string>> | undefined;
}

export type SelectedChecks = { checks: LoadedCheck[]; unknown?: undefined } | { unknown: string[]; checks?: undefined };

/**
 * The checks a selection picks, in the order given; or the names it asks for that no check has
 * (a typo in a pipeline must not pass a gate by selecting nothing). Without names and labels:
 * every check.
 */
export function selectChecks(checks: readonly LoadedCheck[], selection: CheckSelection): SelectedChecks {
  const names = selection.names ?? [];
  let selected = [...checks];
  if (names.length > 0) {
    const unknown = names.filter((name) => !checks.some((c) => c.spec.name === name));
    if (unknown.length > 0) return { unknown };
    selected = selected.filter((c) => names.includes(c.spec.name));
  }
  const wanted = Object.entries(selection.labels ?? {});
  if (wanted.length > 0) selected = selected.filter((c) => wanted.every(([key, value]) => c.spec.labels[key] === value));
  return { checks: selected };
}

/** `a,b, c` and repeated flags as one list of names, blanks dropped. */
export function splitNames(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}
