import { randomUUID } from 'node:crypto';
import type { Result } from '../results/result.js';

/**
 * Deploy windows (docs/gate.md "Deploy windows"): while a rollout is under way its checks fail by
 * design, and a failing check in an open window is *converging*, not failing. A window closes when
 * every selected check has passed since it opened (converged) or at its `until` (unconverged).
 * Kept in memory only: a reload keeps it (the store is the daemon's, not the loader's), a restart
 * forgets it.
 */
export interface DeployWindow {
  id: string;
  kind: 'deploy';
  /** The release being rolled out, when the opener named one. */
  release: string | undefined;
  /** Who opened it: POST /api/v1/windows or a gate with wait. */
  openedBy: 'api' | 'gate';
  checks: string[];
  openedAt: string;
  until: string;
  /** Selected checks with no passing result since the window opened (or failing again since). */
  pending: string[];
  closedAt?: string | undefined;
  /** converged: every check passed; unconverged: `until` came first; closed: DELETE, or a gate that ended. */
  outcome?: 'converged' | 'unconverged' | 'closed' | undefined;
}

/** What a check entry carries while a deploy window selects it (state-store.ts CheckEntry.window). */
export interface WindowMark {
  id: string;
  kind: 'deploy';
  release: string | undefined;
}

export interface OpenWindow {
  checks: readonly string[];
  release: string | undefined;
  untilMs: number;
  openedBy: DeployWindow['openedBy'];
}

export interface WindowStore {
  /** Opens a window; a string says why not (too many open). */
  open(request: OpenWindow): DeployWindow | string;
  /** Closes an open window early (DELETE: outcome `closed`; a gate: what it decided); undefined when no window has that id open. */
  close(id: string, outcome?: NonNullable<DeployWindow['outcome']>): DeployWindow | undefined;
  get(id: string): DeployWindow | undefined;
  /** Open windows, oldest first, and the last closed ones, newest first. */
  list(): { open: DeployWindow[]; closed: DeployWindow[] };
  /** The open deploy window selecting this check, if any. */
  markOf(name: string): WindowMark | undefined;
  /** Every recorded result passes through here: a pass takes its check off the open windows' pending lists. */
  observe(result: Result): void;
  /** Clears the timers (daemon stop). */
  stop(): void;
}

/** Open windows at once: each holds a timer and its check names. */
export const MAX_OPEN_WINDOWS = 100;
/** Closed windows GET /api/v1/windows still lists. */
const KEEP_CLOSED = 50;

export interface WindowStoreOptions {
  /** A check entry's mark is set and cleared through this (the state store's entry). */
  mark(name: string, mark: WindowMark | undefined): void;
  onOpen?: ((window: DeployWindow) => void) | undefined;
  /** Called once when a window closes, with its outcome set. */
  onClose?: ((window: DeployWindow) => void) | undefined;
  now?: () => number;
}

interface Held {
  window: DeployWindow;
  pending: Set<string>;
  openedAtMs: number;
  timer: NodeJS.Timeout;
}

export function createWindowStore(options: WindowStoreOptions): WindowStore {
  const now = options.now ?? Date.now;
  const open = new Map<string, Held>();
  const byCheck = new Map<string, Set<Held>>();
  const closed: DeployWindow[] = [];

  const view = (held: Held): DeployWindow => ({ ...held.window, pending: [...held.pending] });
  const markFor = (name: string): WindowMark | undefined => {
    let latest: Held | undefined;
    for (const held of byCheck.get(name) ?? []) if (latest === undefined || held.openedAtMs >= latest.openedAtMs) latest = held;
    return latest && { id: latest.window.id, kind: 'deploy', release: latest.window.release };
  };

  const finish = (held: Held, outcome: NonNullable<DeployWindow['outcome']>): DeployWindow => {
    clearTimeout(held.timer);
    open.delete(held.window.id);
    for (const name of held.window.checks) {
      const set = byCheck.get(name);
      set?.delete(held);
      if (set?.size === 0) byCheck.delete(name);
      options.mark(name, markFor(name));
    }
    const done: DeployWindow = { ...view(held), closedAt: new Date(now()).toISOString(), outcome };
    closed.unshift(done);
    closed.length = Math.min(closed.length, KEEP_CLOSED);
    options.onClose?.(done);
    return done;
  };

  return {
    open(request) {
      if (open.size >= MAX_OPEN_WINDOWS) return `too many open windows (${open.size}): close one (DELETE /api/v1/windows/ID) or wait for one to end`;
      const openedAtMs = now();
      const checks = [...new Set(request.checks)];
      const window: DeployWindow = {
        id: randomUUID(),
        kind: 'deploy',
        release: request.release,
        openedBy: request.openedBy,
        checks,
        openedAt: new Date(openedAtMs).toISOString(),
        until: new Date(request.untilMs).toISOString(),
        pending: [],
      };
      const held: Held = { window, pending: new Set(checks), openedAtMs, timer: setTimeout(() => finish(held, 'unconverged'), Math.max(0, request.untilMs - openedAtMs)) };
      // A window must not keep a stopping daemon alive; stop() clears it anyway.
      held.timer.unref();
      open.set(window.id, held);
      for (const name of checks) {
        let set = byCheck.get(name);
        if (set === undefined) byCheck.set(name, (set = new Set()));
        set.add(held);
        options.mark(name, markFor(name));
      }
      options.onOpen?.(window);
      return view(held);
    },
    close(id, outcome = 'closed') {
      const held = open.get(id);
      return held && finish(held, outcome);
    },
    get: (id) => {
      const held = open.get(id);
      return held ? view(held) : closed.find((w) => w.id === id);
    },
    list: () => ({ open: [...open.values()].map(view), closed: [...closed] }),
    markOf: markFor,
    observe(result) {
      const windows = byCheck.get(result.name);
      if (windows === undefined) return;
      const startedAt = Date.parse(result.startedAt);
      for (const held of [...windows]) {
        // A run that started before the window opened saw the old release: it decides nothing.
        if (startedAt < held.openedAtMs) continue;
        if (result.ok) held.pending.delete(result.name);
        else held.pending.add(result.name);
        if (held.pending.size === 0) finish(held, 'converged');
      }
    },
    stop() {
      for (const held of open.values()) clearTimeout(held.timer);
    },
  };
}
