import type { FastifyReply } from 'fastify';
import type { LoadedCheck } from '../checks/registry.js';
import { formatDuration, parseDuration } from '../config/duration.js';
import { gateAnswer, type GateAnswer } from '../gate/gate-answer.js';
import { selectChecks, type CheckSelection } from '../gate/selection.js';
import { DEFAULT_EVERY_MS, runGate } from '../gate/wait.js';
import type { Result } from '../results/result.js';
import { createConcurrencyLimit } from '../scheduler/concurrency-limit.js';
import type { ServedDaemon } from './served-daemon.js';

/** What a gate request asks for, once parsed (the JSON body of /api/v1/gate, Flagger's metadata). */
export interface GateRequest {
  selection: CheckSelection;
  release: string | undefined;
  /** false: one round; true: rerun what fails for as long as `timeout` leaves; a duration: at most that. */
  wait: boolean | string | undefined;
  every: string | undefined;
  timeout: string | undefined;
}

/** The answer within 30 s unless the caller says otherwise: Argo's web provider and Flagger's webhooks wait about that long. */
export const DEFAULT_GATE_TIMEOUT_MS = 30_000;
/** A gate request holds a connection and a little memory for at most this long. */
export const MAX_GATE_TIMEOUT_MS = 10 * 60_000;
/** Checks one gate may select: the answer carries every result. */
export const MAX_GATE_CHECKS = 1000;
/** Gates at once; more are refused (429), like on-demand runs beyond their queue. */
export const MAX_GATES = 32;
/** Runs one gate starts at once; the daemon's on-demand slots bound all of them together. */
const GATE_CONCURRENCY = 16;
/** The largest request body the gate routes read. */
export const GATE_BODY_LIMIT = 64 * 1024;

/** A request the gate cannot run: the HTTP status and the API's error body. */
export interface GateRefusal {
  status: 400 | 404 | 429;
  body: { error: string; code: string; message: string };
}

const refuse = (status: GateRefusal['status'], code: string, message: string): GateRefusal => ({ status, body: { error: status === 429 ? 'busy' : status === 404 ? 'not found' : 'bad request', code, message } });

/** Runs gates for the API: bounded in number, each within its timeout, cancelled when its caller goes. */
export function createGateRunner(daemon: ServedDaemon): (request: GateRequest, reply: FastifyReply) => Promise<GateAnswer | GateRefusal> {
  let running = 0;
  return async (request, reply) => {
    const timing = gateTiming(request);
    if (typeof timing === 'string') return refuse(400, 'DRIFTWATCH_BAD_BODY', timing);
    const selected = selectChecks(daemon.state.all().map((entry) => entry.check), request.selection);
    if (selected.unknown !== undefined) return refuse(404, 'DRIFTWATCH_CHECK_NOT_FOUND', `no check named ${selected.unknown.map((n) => `"${n}"`).join(', ')}`);
    if (selected.checks.length === 0) return refuse(400, 'DRIFTWATCH_EMPTY_SELECTION', 'the selection matches no check: a gate of nothing would pass anything');
    if (selected.checks.length > MAX_GATE_CHECKS) return refuse(400, 'DRIFTWATCH_SELECTION_TOO_LARGE', `the selection matches ${selected.checks.length} checks, at most ${MAX_GATE_CHECKS} per gate`);
    if (running >= MAX_GATES) return refuse(429, 'DRIFTWATCH_BUSY', `too many gates at once (${running} running)`);
    running += 1;
    // A gate that waits is a rollout under way: its checks are converging, not failing, until it decides (docs/gate.md).
    const window = timing.waitMs > 0 ? daemon.windows?.open({ checks: selected.checks.map((c) => c.spec.name), release: request.release, untilMs: Date.now() + timing.timeoutMs, openedBy: 'gate' }) : undefined;
    let outcome: 'converged' | 'unconverged' | 'closed' = 'closed';
    // A caller that went away decided nothing about the rollout: its window just closes.
    const caller = { gone: false };
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded) caller.gone = true;
    });
    try {
      const answer = await runSelected(daemon, selected.checks, request.release, timing, reply);
      if (!caller.gone) outcome = answer.passed ? 'converged' : 'unconverged';
      return answer;
    } finally {
      running -= 1;
      if (typeof window === 'object') daemon.windows?.close(window.id, outcome);
    }
  };
}

interface GateTiming {
  timeoutMs: number;
  waitMs: number;
  everyMs: number;
}

/** timeout, wait and every as milliseconds, or what is wrong with them. */
function gateTiming(request: GateRequest): GateTiming | string {
  const parse = (text: string | undefined, key: string, fallback: number): number | string => {
    if (text === undefined) return fallback;
    const ms = parseDuration(text);
    return ms === undefined || ms <= 0 ? `${key}: expected a duration such as 500ms, 30s or 5m, got "${text}"` : ms;
  };
  const timeoutMs = parse(request.timeout, 'timeout', DEFAULT_GATE_TIMEOUT_MS);
  if (typeof timeoutMs === 'string') return timeoutMs;
  if (timeoutMs > MAX_GATE_TIMEOUT_MS) return `timeout: at most ${formatDuration(MAX_GATE_TIMEOUT_MS)}, got "${request.timeout ?? ''}"`;
  const wait = request.wait;
  const waitMs = wait === undefined || wait === false ? 0 : wait === true ? timeoutMs : parse(wait, 'wait', 0);
  if (typeof waitMs === 'string') return waitMs;
  const everyMs = parse(request.every, 'every', DEFAULT_EVERY_MS);
  if (typeof everyMs === 'string') return everyMs;
  if (request.every !== undefined && waitMs === 0) return 'every: needs wait';
  return { timeoutMs, waitMs: Math.min(waitMs, timeoutMs), everyMs };
}

/**
 * The gate of `driftwatch run --wait` over the daemon's on-demand runs (shared between gate
 * callers, bounded by the daemon's slots). Reruns stop early enough for a last round to fit in
 * the timeout (the longest check timeout before it), and every run ends by the timeout, so the
 * answer comes within it. The caller's connection closing stops the wait and cancels the runs.
 */
async function runSelected(daemon: ServedDaemon, checks: readonly LoadedCheck[], release: string | undefined, timing: GateTiming, reply: FastifyReply): Promise<GateAnswer> {
  const startedAt = performance.now();
  const endsAt = startedAt + timing.timeoutMs;
  const longest = Math.max(...checks.map((c) => c.spec.timeout));
  const waitMs = timing.waitMs === 0 ? 0 : Math.max(0, Math.min(timing.waitMs, timing.timeoutMs - longest));
  const gone = new AbortController();
  const cancels = new Set<(why: string) => void>();
  reply.raw.once('close', () => {
    if (reply.raw.writableEnded) return;
    gone.abort(new Error('caller went away'));
    for (const cancel of cancels) cancel('caller went away');
  });
  const limit = createConcurrencyLimit(GATE_CONCURRENCY, Number.MAX_SAFE_INTEGER);
  const execute = (check: LoadedCheck) =>
    limit.run(async (): Promise<Result> => {
      const timeoutMs = Math.max(1, Math.round(endsAt - performance.now()));
      try {
        const run = await daemon.runNow(check.spec.name, { join: true, release, timeoutMs, onCallerGone: (cancel) => cancels.add(cancel) });
        return run.result;
      } catch (err) {
        // A reload removed the check meanwhile, or the daemon's on-demand queue is full: a failure of this check, as data.
        return { name: check.spec.name, type: check.spec.type, ok: false, reason: 'error', message: err instanceof Error ? err.message : 'the run failed', startedAt: new Date().toISOString(), durationMs: 0, observations: {} };
      }
    });
  const outcome = await runGate(checks, execute, { waitMs, everyMs: timing.everyMs, startedAt, signal: gone.signal });
  return gateAnswer(outcome, release);
}

/** A refusal or an answer. */
export function isRefusal(value: GateAnswer | GateRefusal): value is GateRefusal {
  return 'status' in value && 'body' in value;
}
