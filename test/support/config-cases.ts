import { CHECK_TYPES } from '../../src/checks/registry.js';

/** One file with problems that used to hide each other (issue 16.4); also run through `driftwatch validate`. */
export const EVERY_PROBLEM = [
  'defaults:',
  '  intervall: 30s',
  '  timeout: 2s',
  'checks:',
  '  - name: Hub_DNS',
  '    type: dnss',
  '    query: hub.example',
  '  - name: hub',
  '    type: tcp',
  '    host: 127.0.0.1',
  '    port: 0',
  '  - name: hub',
  '    type: tcp',
  '    host: 127.0.0.1',
  '    port: 1',
  '',
].join('\n');

export function everyProblem(file: string): string[] {
  return [
    `${file}:2:3: defaults.intervall: unknown key "intervall" (accepted: interval, schedule, timeout, labels, maintenance, kubeconfig, context)`,
    `${file}:6:11: checks[0].type: unknown check type "dnss" (accepted: ${CHECK_TYPES.join(', ')})`,
    `${file}:5:11: checks[0].name: must match [a-z0-9][a-z0-9-]*: lower case letters, digits and dashes, like hub-dns (got "Hub_DNS")`,
    `${file}:11:11: checks[1].port: must be at least 1 (got 0)`,
    `${file}:12:11: checks[2].name: duplicate check name "hub" (first defined at ${file}:8)`,
  ];
}
