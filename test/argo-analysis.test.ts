import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startHttpPeer } from './peers/https.js';
import { listenDaemonApi, type DaemonApi } from './support/daemon-api.js';
import { PeerSet } from './support/peers.js';

/**
 * The shipped AnalysisTemplate (examples/argo-rollouts/analysis-template.yaml), read as Argo
 * Rollouts' web metric provider reads it (metricproviders/webmetric/webmetric.go, Argo Rollouts
 * at 9f8d111): POST the jsonBody with the headers, a non-2xx answer is a measurement Error, the
 * value at jsonPath (typed, from encoding/json) is `result`, successCondition is evaluated with
 * expr over it, and without a failureCondition a false successCondition is Failed
 * (utils/evaluate/evaluate.go). The evaluator below knows exactly one condition and one jsonPath
 * shape and refuses anything else, so a changed template fails here instead of being misread.
 */
type Phase = 'Successful' | 'Failed' | 'Error';

interface WebMetric {
  name: string;
  successCondition?: string;
  failureCondition?: string;
  provider: { web?: { method?: string; url: string; headers?: { key: string; value: string }[]; jsonBody?: Record<string, unknown>; jsonPath?: string; timeoutSeconds?: number } };
}

/** `{$.a.b}` (Kubernetes JSONPath, as Argo parses it) as the keys a, b; nothing else. */
function jsonPathKeys(path: string): string[] {
  const match = /^\{\$((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\}$/.exec(path);
  if (match?.[1] === undefined) throw new Error(`unsupported jsonPath ${path}: this evaluator reads only {$.field.field}`);
  return match[1].slice(1).split('.');
}

/** Argo's verdict on one answer, for the one condition this evaluator knows: `result == true`. */
function argoPhase(metric: WebMetric, status: number, body: string): Phase {
  if (metric.successCondition?.trim() !== 'result == true') throw new Error(`unsupported successCondition ${String(metric.successCondition)}: this evaluator reads only "result == true"`);
  if (metric.failureCondition !== undefined) throw new Error('unsupported failureCondition: this evaluator reads successCondition alone');
  if (status < 200 || status >= 300) return 'Error';
  let value: unknown = JSON.parse(body);
  for (const key of jsonPathKeys(metric.provider.web?.jsonPath ?? '')) {
    if (typeof value !== 'object' || value === null || !(key in value)) return 'Error'; // "Could not find JSONPath in body"
    value = (value as Record<string, unknown>)[key];
  }
  // expr's == between a bool and anything that is not the bool true is false; no failureCondition: Failed.
  return value === true ? 'Successful' : 'Failed';
}

/** Argo's {{args.NAME}} substitution in the metric's strings. */
function withArgs<T>(value: T, args: Record<string, string>): T {
  return JSON.parse(JSON.stringify(value).replace(/\{\{args\.([a-z-]+)\}\}/g, (_, name: string) => args[name] ?? `{{args.${name}}}`)) as T;
}

describe('the shipped AnalysisTemplate against real answers of the gate endpoint', { timeout: 60_000 }, () => {
  const peers = new PeerSet();
  const token = 'argo-token-51c2';
  let served: DaemonApi & { base: string };
  let base: string;
  let live = 'v1';
  let metric: WebMetric;

  beforeAll(async () => {
    const template = parse(await readFile('examples/argo-rollouts/analysis-template.yaml', 'utf8')) as { kind: string; spec: { metrics: WebMetric[] } };
    expect(template.kind).toBe('AnalysisTemplate');
    const found = template.spec.metrics.find((m) => m.provider.web !== undefined);
    if (found === undefined) throw new Error('no web metric in the template');
    metric = found;
    const service = await peers.start(startHttpPeer({ host: '127.0.0.1', routes: { '/version': () => ({ body: `release ${live}` }) } }));
    const checks = [
      { name: 'hub-version', type: 'http', url: service.url('/version'), labels: { service: 'hub' }, expect: { bodyContains: 'release {release}' } },
      { name: 'other-version', type: 'http', url: service.url('/nope'), labels: { service: 'other' } },
    ];
    served = await listenDaemonApi(stringify({ defaults: { interval: '1h', timeout: '1s' }, checks }), { token });
    base = served.base;
  });

  afterAll(async () => {
    await served.close();
    await peers.closeAll();
  });

  /** One measurement as Argo's web provider takes it: the template's method, path, headers and jsonBody, args filled in. */
  const measure = async (args: Record<string, string>, bodyChanges: Record<string, unknown> = {}) => {
    const web = withArgs(metric.provider.web, args);
    if (web === undefined) throw new Error('no web provider');
    const url = new URL(web.url);
    const headers = Object.fromEntries((web.headers ?? []).map((h) => [h.key, h.value]));
    // Argo sets Content-Type: application/json itself when jsonBody is given.
    const response = await fetch(`${base}${url.pathname}`, { method: web.method ?? 'GET', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ ...web.jsonBody, ...bodyChanges }) });
    return { status: response.status, body: await response.text() };
  };

  it('ships the gate as a POST with a minimal condition on passed', () => {
    expect(metric.provider.web).toMatchObject({ method: 'POST', jsonPath: '{$.passed}' });
    expect(new URL(metric.provider.web?.url ?? '').pathname).toBe('/api/v1/gate');
    expect(metric.provider.web?.jsonBody).toMatchObject({ release: '{{args.release}}', wait: true });
  });

  it('is Successful on a green gate and Failed on a red one', async () => {
    // The template waits 120s for the deploy to settle; 2s here keep the red case short.
    live = 'v2';
    const green = await measure({ release: 'v2', 'api-token': token }, { timeout: '2s' });
    expect(green.status).toBe(200);
    expect(argoPhase(metric, green.status, green.body)).toBe('Successful');
    live = 'v1';
    const red = await measure({ release: 'v2', 'api-token': token }, { timeout: '2s' });
    expect(red.status).toBe(200);
    expect(JSON.parse(red.body)).toMatchObject({ passed: false, firstBrokenLink: { name: 'hub-version', reason: 'assertion' } });
    expect(argoPhase(metric, red.status, red.body)).toBe('Failed');
  });

  it('is an Error, never Successful, when the gate cannot run', async () => {
    const refused = await measure({ release: 'v2', 'api-token': 'wrong' }, { timeout: '2s' });
    expect(refused.status).toBe(401);
    expect(argoPhase(metric, refused.status, refused.body)).toBe('Error');
    const nothing = await measure({ release: 'v2', 'api-token': token }, { labels: { service: 'none' }, timeout: '2s' });
    expect(nothing.status).toBe(400);
    expect(argoPhase(metric, nothing.status, nothing.body)).toBe('Error');
  });

  it('refuses a condition or jsonPath it does not know', () => {
    expect(() => argoPhase({ ...metric, successCondition: 'result != false' }, 200, '{"passed":true}')).toThrow(/unsupported successCondition/);
    expect(() => argoPhase({ ...metric, provider: { web: { url: 'http://x', jsonPath: '{$.checks[0].ok}' } } }, 200, '{"passed":true}')).toThrow(/unsupported jsonPath/);
  });
});
