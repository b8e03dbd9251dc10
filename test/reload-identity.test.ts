import { describe, expect, it } from 'vitest';
import { createStateStore } from '../src/state/state-store.js';
import { parseChecks } from './support/checks.js';

const db = (password: string, extra = '') =>
  `  - { name: db, type: postgres, host: 127.0.0.1, database: app, user: app, password: ${password}, schedule: "0 0 1 1 *"${extra} }\n`;
const filler = '  - { name: filler, type: tcp, host: 127.0.0.1, port: 1, schedule: "0 0 1 1 *" }\n';

// The daemon records a run only while the state holds the very object the run was started with.
describe('state across a reload', () => {
  it('keeps the object of an unchanged check, with its new place in the file', () => {
    const state = createStateStore();
    const [first] = state.set(parseChecks(`checks:\n${db('{ env: DB_A }')}`, 'a.yaml'));
    const [, moved] = state.set(parseChecks(`checks:\n${filler}${db('{ env: DB_A }')}`, 'b.yaml'));
    expect(moved).toBe(first);
    expect(state.get('db')?.check).toBe(first);
    expect([moved?.file, moved?.line, moved?.index]).toEqual(['b.yaml', 3, 1]);
  });

  it('replaces the object of a check whose spec changed, a secret reference included (it prints as [secret] in JSON)', () => {
    const state = createStateStore();
    const [first] = state.set(parseChecks(`checks:\n${db('{ env: DB_A }')}`));
    const [otherSecret] = state.set(parseChecks(`checks:\n${db('{ env: DB_B }')}`));
    expect(otherSecret).not.toBe(first);
    const [described] = state.set(parseChecks(`checks:\n${db('{ env: DB_B }', ', description: now described')}`));
    expect(described).not.toBe(otherSecret);
    expect(state.get('db')?.check).toBe(described);
  });
});
