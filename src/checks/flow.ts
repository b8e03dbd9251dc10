import { z } from 'zod';
import { baseFields } from '../config/base.js';
import { expandExpectations } from '../config/release.js';
import type { HttpResponse } from '../net/http-request.js';
import type { Failure } from '../results/result.js';
import type { Sample } from '../results/run.js';
import type { CheckType, RunContext } from './check-type.js';
import { CAPTURE_REFERENCE, checkStepReferences, flowSteps, MAX_CAPTURE_BYTES, type Capture, type FlowStep } from './flow-steps.js';
import { checkExpectations, checkStatus, readPath, walkExpectations } from './http-expect.js';
import { patternProblems } from './http-match.js';
import { sendCheckRequest } from './http.js';
import { INLINE_TEXT, compilePattern } from './pattern.js';
import { resolveHeaders } from './request-fields.js';
import { readServiceIngress } from '../kube/service-ingress.js';
import { CheckFailure } from '../results/result.js';

/**
 * Several requests that pass values on: log in, take the token, call the API with it. Each step
 * is an http request with an http check's expectations, run in order under the check's one
 * timeout; `capture:` takes values from an answer for later steps. A captured value is a secret
 * unless the step says `public: true`: it is registered with the run's redactions, so no result,
 * log line, page or metric shows it.
 */
export const schema = z
  .strictObject({
    ...baseFields,
    type: z.literal('flow'),
    steps: flowSteps,
  })
  .superRefine((spec, ctx) => {
    checkStepReferences(spec.steps, ctx);
  });
export type FlowSpec = z.infer<typeof schema>;

export type StepOutcome = 'pass' | 'fail' | 'not-run';

export interface StepObservation {
  name: string;
  method: string;
  /** The URL as written ({captures.NAME} not filled in: a captured value may be a secret). */
  url: string;
  outcome: StepOutcome;
  status?: number;
  totalMs?: number;
  /** Names of the values this step captured; public ones with their value. */
  captured?: Record<string, string | null>;
  message?: string;
}

export interface FlowObservations {
  steps: StepObservation[];
  /** The step that failed first (1-based), when one did. */
  failedStep?: number;
}

export const check: CheckType<FlowSpec, FlowObservations> = {
  async run(spec, ctx) {
    const values = new Map<string, string>();
    const steps: StepObservation[] = [];
    let failure: Failure | undefined;
    let failedStep: number | undefined;
    for (const [i, step] of spec.steps.entries()) {
      if (failure !== undefined) {
        steps.push({ name: step.name, method: step.method, url: step.url, outcome: 'not-run' });
        continue;
      }
      const done = await runStep(step, values, ctx);
      steps.push(done.observation);
      ctx.progress({ steps: [...steps] });
      if (done.failure !== undefined) {
        failedStep = i + 1;
        failure = { reason: done.failure.reason, message: `step ${i + 1} \`${step.name}\`: ${done.failure.message}` };
      }
    }
    const observations: FlowObservations = { steps, ...(failedStep !== undefined && { failedStep }) };
    return failure ? { observations, failure } : { observations, message: `${steps.length} steps passed` };
  },
  samples,
};

/** One step: its request with the values captured so far, its expectations, then its captures. */
async function runStep(step: FlowStep, values: Map<string, string>, ctx: RunContext<FlowObservations>): Promise<{ observation: StepObservation; failure?: Failure }> {
  const base: StepObservation = { name: step.name, method: step.method, url: step.url, outcome: 'fail' };
  const fill = (text: string) => text.replace(CAPTURE_REFERENCE, (_, name: string) => values.get(name) ?? '');
  const headers = await resolveHeaders(step.headers);
  for (const [name, value] of Object.entries(step.headers)) {
    if (typeof value !== 'string') continue;
    const filled = fill(value);
    if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(filled)) return { observation: base, failure: { reason: 'assertion', message: `header ${name}: a captured value holds characters a header cannot carry` } };
    headers[name] = filled;
  }
  ctx.trace('step', { step: step.name, method: step.method, url: step.url, headers: Object.keys(headers) });
  let resolve = step.resolve;
  if (step.ingressFrom !== undefined) {
    try {
      resolve = await ingressAddress(step.ingressFrom, ctx);
    } catch (err) {
      if (!(err instanceof CheckFailure)) throw err;
      return { observation: base, failure: { reason: err.reason, message: err.message } };
    }
  }
  const request = { ...step, resolve, url: fill(step.url), body: step.body === undefined ? undefined : fill(step.body), redirectHeaders: [] };
  const sent = await sendCheckRequest(request, headers, ctx);
  if ('failure' in sent) return { observation: { ...base, ...(sent.seen.status !== undefined && { status: sent.seen.status }) }, failure: sent.failure };
  const { response } = sent;
  const seen: StepObservation = { ...base, status: response.status, totalMs: Math.round(response.totalMs * 10) / 10 };
  const expect = expandExpectations(step.expect, walkExpectations, ctx.services.release);
  const statusFailure = checkStatus(expect.status, response);
  const patterns = statusFailure === undefined ? await patternProblems(expect, response, ctx.signal) : [];
  const failure = statusFailure ?? checkExpectations(expect, response, patterns);
  if (failure !== undefined) return { observation: seen, failure };
  const captured: Record<string, string | null> = {};
  for (const [name, how] of Object.entries(step.capture)) {
    const value = captureValue(how, response);
    if (typeof value !== 'string') return { observation: seen, failure: { reason: 'assertion', message: `capture ${name}: ${value.problem}` } };
    if (!how.public) ctx.redact(value);
    values.set(name, value);
    captured[name] = how.public ? value : null;
  }
  return { observation: { ...seen, outcome: 'pass', ...(Object.keys(captured).length > 0 && { captured }) } };
}

/** The first load-balancer IP of the Service (the ingress), as the ingress check's ingressFrom reads it. */
async function ingressAddress(ref: NonNullable<FlowStep['ingressFrom']>, ctx: RunContext<FlowObservations>): Promise<string> {
  const found = await readServiceIngress(ctx.services.kube, { namespace: ref.namespace, name: ref.service, kubeconfig: ref.kubeconfig, context: ref.context }, { signal: ctx.signal, trace: ctx.trace.bind(ctx), redact: ctx.redact.bind(ctx) });
  const ip = found.ips[0];
  if (ip === undefined) throw new CheckFailure('assertion', `service ${ref.namespace}/${ref.service} publishes no load-balancer IP in status.loadBalancer.ingress`);
  return ip;
}

/** The value a capture takes from an answer, or why there is none. */
function captureValue(how: Capture, response: HttpResponse): string | { problem: string } {
  let value: string | undefined;
  if (how.header !== undefined) {
    value = response.headers[how.header.toLowerCase()];
    if (value === undefined) return { problem: `no header ${how.header} in the answer` };
  } else if (how.json !== undefined) {
    let document: unknown;
    try {
      document = JSON.parse(response.body);
    } catch {
      return { problem: `body is not JSON (${response.headers['content-type'] ?? 'no content-type'}), expected a value at ${how.json}` };
    }
    const found = readPath(document, how.json);
    if (!found.present || found.value === null) return { problem: `json ${how.json} matches nothing` };
    value = typeof found.value === 'string' ? found.value : JSON.stringify(found.value);
  } else if (how.regex !== undefined) {
    const matcher = compilePattern(how.regex).matcher(response.body.slice(0, INLINE_TEXT));
    if (!matcher.find()) return { problem: `${how.regex} matches nothing in the body's first ${INLINE_TEXT} characters` };
    value = (matcher.groupCount() > 0 ? matcher.group(1) : matcher.group(0)) ?? '';
  }
  if (value === undefined || value === '') return { problem: 'the value is empty' };
  if (Buffer.byteLength(value) > MAX_CAPTURE_BYTES) return { problem: `the value is over ${MAX_CAPTURE_BYTES} bytes` };
  return value;
}

/** Per declared step (a fixed set): whether it passed, and how long its request took (0 when it did not run). */
function samples(spec: FlowSpec, observations: FlowObservations | undefined): Sample[] {
  const out: Sample[] = [];
  spec.steps.forEach((step, i) => {
    const seen = observations?.steps[i];
    out.push({ name: 'driftwatch_flow_step_success', labels: { step: step.name }, value: seen?.outcome === 'pass' ? 1 : 0 });
    out.push({ name: 'driftwatch_flow_step_duration_seconds', labels: { step: step.name }, value: (seen?.totalMs ?? 0) / 1000 });
  });
  return out;
}
