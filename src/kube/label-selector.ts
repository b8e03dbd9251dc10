import { z } from 'zod';

/** A workload's spec.selector (meta/v1 LabelSelector). */
export const labelSelectorSchema = z.object({
  matchLabels: z.record(z.string(), z.string()).default({}),
  matchExpressions: z
    .array(z.object({ key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()).default([]) }))
    .default([]),
});
export type LabelSelector = z.infer<typeof labelSelectorSchema>;

/**
 * The selector in the labelSelector query syntax the API server evaluates
 * (`app=hub,tier in (web,api),!canary`), as `kubectl get pods -l` takes it.
 */
export function formatLabelSelector(selector: LabelSelector): string {
  const terms = Object.entries(selector.matchLabels).map(([key, value]) => `${key}=${value}`);
  for (const { key, operator, values } of selector.matchExpressions) {
    switch (operator) {
      case 'In':
        terms.push(`${key} in (${values.join(',')})`);
        break;
      case 'NotIn':
        terms.push(`${key} notin (${values.join(',')})`);
        break;
      case 'Exists':
        terms.push(key);
        break;
      case 'DoesNotExist':
        terms.push(`!${key}`);
        break;
    }
  }
  return terms.join(',');
}
