/**
 * Label and field selectors as kube-apiserver evaluates them on a list (k8s.io/apimachinery
 * labels.Parse and fields.ParseSelector), for the stand-in API server: `a=b`, `a==b`, `a!=b`,
 * `a in (x,y)`, `a notin (x,y)`, `a`, `!a`; fields `metadata.name` and `metadata.namespace` with
 * `=`, `==`, `!=`, which is what every resource supports.
 */
import type { KubeObject } from './kube-objects.js';

export type Matcher = (object: KubeObject) => boolean;

export class SelectorError extends Error {}

/** Splits on commas outside parentheses: `a in (x,y),b` is two terms. */
function terms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of text) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += c;
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

export function parseLabelSelector(text: string): Matcher {
  const tests = terms(text).map((term): ((labels: Record<string, string>) => boolean) => {
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m?.[1] && m[2] && m[3] !== undefined) {
      const [key, op] = [m[1], m[2]];
      const values = m[3].split(',').map((v) => v.trim());
      return (labels) => (op === 'in' ? key in labels && values.includes(labels[key] ?? '') : !(key in labels) || !values.includes(labels[key] ?? ''));
    }
    m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(term);
    if (m?.[1] && m[2] && m[3] !== undefined) {
      const [key, op, value] = [m[1], m[2], m[3]];
      return (labels) => (op === '!=' ? labels[key] !== value : labels[key] === value);
    }
    m = /^(!?)([\w./-]+)$/.exec(term);
    if (m?.[2]) {
      const [negated, key] = [m[1] === '!', m[2]];
      return (labels) => (key in labels) !== negated;
    }
    throw new SelectorError(`unable to parse requirement: ${JSON.stringify(term)}`);
  });
  return (object) => tests.every((test) => test(object.metadata.labels ?? {}));
}

export function parseFieldSelector(text: string): Matcher {
  const tests = terms(text).map((term): Matcher => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m?.[1] || !m[2] || m[3] === undefined) throw new SelectorError(`invalid selector: '${term}'; can't understand '${term}'`);
    const [field, op, value] = [m[1], m[2], m[3]];
    if (field !== 'metadata.name' && field !== 'metadata.namespace') throw new SelectorError(`field label not supported: ${field}`);
    return (object) => ((field === 'metadata.name' ? object.metadata.name : object.metadata.namespace) === value) !== (op === '!=');
  });
  return (object) => tests.every((test) => test(object));
}
