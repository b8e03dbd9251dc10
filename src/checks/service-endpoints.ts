import { z } from 'zod';
import { readServiceEndpoints, type ServiceEndpoint } from '../kube/endpoint-slices.js';
import { kubeSourceFields, namespaceName, objectName } from '../kube/source.js';
import { CheckFailure, type Failure } from '../results/result.js';
import type { Sample } from '../results/run.js';
import type { RunContext } from './check-type.js';

/** Requests to a Service's endpoints at most this many per run by default, and never more than MAX. */
const DEFAULT_MAX_ENDPOINTS = 64;
const MAX_ENDPOINTS = 512;
/** Endpoints asked at once within one run: the run as a whole still holds one of the daemon's slots. */
const PARALLEL = 8;
/** Endpoints not requested (not ready, terminating, over maxEndpoints) listed in the observations at most. */
const MAX_LISTED_OTHERS = 64;
/** Failing endpoints the message names; the observations list all of them. */
const NAMED_IN_MESSAGE = 3;

export const endpointsFrom = z
  .strictObject({
    namespace: namespaceName,
    service: objectName,
    port: z
      .union([z.string().min(1), z.number().int().min(1).max(65535)])
      .optional()
      .meta({ description: "the Service port's name, or the endpoints' port number; needed when the Service has several ports" }),
    maxEndpoints: z.number().int().min(1).max(MAX_ENDPOINTS).default(DEFAULT_MAX_ENDPOINTS).meta({ description: `ready endpoints requested per run at most (default ${DEFAULT_MAX_ENDPOINTS}, at most ${MAX_ENDPOINTS})` }),
    ...kubeSourceFields,
  })
  .optional()
  .meta({
    description:
      "request the URL at every ready endpoint of this Service (its EndpointSlices), keeping Host, SNI and the certificate name of the URL; passes only when every one does. Exclusive with resolve",
  });
export type EndpointsFrom = NonNullable<z.infer<typeof endpointsFrom>>;

/** What one endpoint answered; `failure` undefined when it met every expectation. */
export interface EndpointAnswer {
  status?: number | undefined;
  totalMs?: number | undefined;
  failure?: Failure | undefined;
}

export type EndpointOutcome = 'pass' | 'fail' | 'not-ready' | 'terminating' | 'not-requested';

export interface EndpointObservation {
  pod?: string;
  node?: string;
  address: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  outcome: EndpointOutcome;
  status?: number;
  totalMs?: number;
  /** Why it failed. */
  message?: string;
}

export interface EndpointsObservations {
  service: string;
  /** Endpoints in the slices: ready, and the rest. */
  ready: number;
  notReady: number;
  passing: number;
  failing: number;
  /** Ready endpoints left out over maxEndpoints. */
  notRequested: number;
  /** Every requested endpoint, then up to 64 of the others. */
  endpoints: EndpointObservation[];
}

/**
 * A check's request at every ready endpoint of a Service: `ask(endpoint)` sends it pinned to the
 * endpoint's address and port and judges the answer as the check would any answer. The run
 * fails when one endpoint fails, naming it (pod, address, node) and what it answered.
 */
export async function askEveryEndpoint(from: EndpointsFrom, ctx: RunContext, ask: (endpoint: ServiceEndpoint) => Promise<EndpointAnswer>): Promise<{ observations: EndpointsObservations; failure?: Failure }> {
  const service = `service ${from.namespace}/${from.service}`;
  const found = await readServiceEndpoints(ctx.services.kube, from, { signal: ctx.signal, trace: ctx.trace.bind(ctx), redact: ctx.redact.bind(ctx) });
  const ready = found.filter((e) => e.ready && !e.terminating).sort(byAddress);
  const others = found.filter((e) => !e.ready || e.terminating);
  if (ready.length === 0) {
    const terminating = others.filter((e) => e.terminating).length;
    throw new CheckFailure('assertion', `${service} has no ready endpoint (${others.length - terminating} not ready, ${terminating} terminating)`);
  }
  const asked = ready.slice(0, from.maxEndpoints);
  const answers = await inTurns(asked, ask);
  const requested = asked.map((endpoint, i) => observe(endpoint, answers[i]));
  const left = [...ready.slice(from.maxEndpoints).map((e) => observe(e, undefined)), ...others.map((e) => observe(e, undefined))];
  const failing = requested.filter((e) => e.outcome === 'fail');
  const observations: EndpointsObservations = {
    service: `${from.namespace}/${from.service}`,
    ready: ready.length,
    notReady: others.length,
    passing: requested.length - failing.length,
    failing: failing.length,
    notRequested: ready.length - asked.length,
    endpoints: [...requested, ...left.slice(0, MAX_LISTED_OTHERS)],
  };
  const firstFailure = answers.find((a) => a.failure !== undefined)?.failure;
  if (firstFailure === undefined) return { observations };
  const named = failing.slice(0, NAMED_IN_MESSAGE).map((e) => `${describe(e)}: ${e.message ?? 'failed'}`);
  const more = failing.length > NAMED_IN_MESSAGE ? `; and ${failing.length - NAMED_IN_MESSAGE} more` : '';
  const message = `${observations.passing} of ${requested.length} endpoints of ${service} pass; ${named.join('; ')}${more}`;
  return { observations, failure: { reason: firstFailure.reason, message } };
}

/** The counts per state, one series each (no pod label: pods come and go). */
export function endpointSamples(observations: { ready?: unknown; passing?: unknown; failing?: unknown; notReady?: unknown } | undefined): Sample[] {
  if (observations === undefined || typeof observations.passing !== 'number') return [];
  const count = (v: unknown) => (typeof v === 'number' ? v : 0);
  return [
    { name: 'driftwatch_endpoints', labels: { state: 'passing' }, value: count(observations.passing) },
    { name: 'driftwatch_endpoints', labels: { state: 'failing' }, value: count(observations.failing) },
    { name: 'driftwatch_endpoints', labels: { state: 'not-ready' }, value: count(observations.notReady) },
  ];
}

/** `inter-hub-7c9d-x2 (10.42.0.17:8080 on node n2)`. */
function describe(e: EndpointObservation): string {
  const at = `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}${e.node === undefined ? '' : ` on node ${e.node}`}`;
  return e.pod === undefined ? at : `${e.pod} (${at})`;
}

function observe(endpoint: ServiceEndpoint, answer: EndpointAnswer | undefined): EndpointObservation {
  const outcome: EndpointOutcome =
    answer !== undefined ? (answer.failure === undefined ? 'pass' : 'fail') : endpoint.terminating ? 'terminating' : endpoint.ready ? 'not-requested' : 'not-ready';
  return {
    ...endpoint,
    outcome,
    ...(answer?.status !== undefined && { status: answer.status }),
    ...(answer?.totalMs !== undefined && { totalMs: answer.totalMs }),
    ...(answer?.failure !== undefined && { message: answer.failure.message }),
  };
}

/** At most PARALLEL requests at a time, answers in the endpoints' order. */
async function inTurns(endpoints: readonly ServiceEndpoint[], ask: (endpoint: ServiceEndpoint) => Promise<EndpointAnswer>): Promise<EndpointAnswer[]> {
  const answers: EndpointAnswer[] = new Array<EndpointAnswer>(endpoints.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < endpoints.length; i = next++) {
      const endpoint = endpoints[i];
      if (endpoint !== undefined) answers[i] = await ask(endpoint);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, endpoints.length) }, worker));
  return answers;
}

function byAddress(a: ServiceEndpoint, b: ServiceEndpoint): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port;
}
