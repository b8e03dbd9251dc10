import type { Result } from '../result.js';
import { listNames } from './blocked.js';

const MAX_ROOTS = 5;
const MAX_BLOCKED_NAMES = 8;
const MAX_MESSAGE = 160;

/**
 * One sentence on the whole gate, naming the first broken links of the dependency graph: the
 * checks that failed on their own (every failing check that is not blocked), each with its
 * reason and what it blocks; a single one also with its message. "First broken link: hub-db
 * (auth), blocking hub-app and hub-migrations: password authentication failed for user "app"."
 */
export function summarySentence(results: readonly Result[]): string {
  const roots = results.filter((r) => !r.ok && r.blocked === undefined);
  const blocked = results.filter((r) => r.blocked !== undefined);
  if (roots.length === 0 && blocked.length === 0) return results.length === 1 ? 'The check passes.' : `All ${results.length} checks pass.`;
  if (roots.length === 0) return `${blocked.length} blocked ${blocked.length === 1 ? 'check waits' : 'checks wait'} for dependencies without a result.`;
  const phrases = roots.slice(0, MAX_ROOTS).map((root) => {
    const dependents = blocked.filter((r) => r.blocked?.roots.includes(root.name)).map((r) => r.name);
    return `${root.name} (${root.reason ?? 'error'})${dependents.length > 0 ? `, blocking ${listCapped(dependents)}` : ''}`;
  });
  const [only] = roots;
  if (roots.length === 1 && only !== undefined) return `First broken link: ${phrases.join('')}: ${shorten(only.message)}.`;
  const more = roots.length > MAX_ROOTS ? `; and ${roots.length - MAX_ROOTS} more failing` : '';
  return `First broken links: ${phrases.join('; ')}${more}.`;
}

function listCapped(names: readonly string[]): string {
  if (names.length <= MAX_BLOCKED_NAMES) return listNames(names);
  return `${names.slice(0, MAX_BLOCKED_NAMES).join(', ')} and ${names.length - MAX_BLOCKED_NAMES} more`;
}

function shorten(message: string): string {
  const text = message.replace(/\s+/g, ' ').replace(/\.$/, '');
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 3)}...` : text;
}
