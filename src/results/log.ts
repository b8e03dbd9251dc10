import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

/** Keys whose values are never logged, on top of the Secret type printing as [secret]. */
export const REDACT_PATHS = [
  'password', '*.password', 'token', '*.token', 'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'secret', '*.secret', 'data', '*.data', 'stringData', '*.stringData', 'connectionString', '*.connectionString',
];

/** The one root logger: JSON on stderr (or the given stream, for tests), levels by name ("level":"info"). */
export function createLogger(level: LevelWithSilent = 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'driftwatch' },
    redact: { paths: REDACT_PATHS, censor: '[secret]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options, pino.destination({ fd: 2, sync: false }));
}

/** What a run writes its lines to: the level methods of a logger, nothing that makes children. */
export type RunLog = Pick<Logger, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'isLevelEnabled'>;

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * A root logger bound to a few fields for one run, as `root.child(bindings)` writes, but the
 * child is made only when a line is written at an enabled level. A run writes none at the
 * daemon's usual level, and pino's child() with redaction configured cost ~13 KB of garbage and
 * ~3 us per run (a heap profile of 100,000 scheduled checks put it at a fifth of all allocation);
 * a child kept per check instead was ~390 bytes of heap each.
 */
export abstract class LazyChildLog implements RunLog {
  private child: Logger | undefined;

  constructor(private readonly root: Logger) {}

  /** The fields every line of the run carries. */
  protected abstract bindings(): Record<string, unknown>;

  isLevelEnabled(level: string): boolean {
    return this.root.isLevelEnabled(level);
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }

  debug(...args: unknown[]): void {
    this.write('debug', args);
  }

  info(...args: unknown[]): void {
    this.write('info', args);
  }

  warn(...args: unknown[]): void {
    this.write('warn', args);
  }

  error(...args: unknown[]): void {
    this.write('error', args);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }

  private write(level: Level, args: unknown[]): void {
    if (!this.root.isLevelEnabled(level)) return;
    const child = (this.child ??= this.root.child(this.bindings()));
    Reflect.apply(child[level], child, args);
  }
}

/** The root logger bound to { check, type } for one run. */
export class CheckLog extends LazyChildLog {
  constructor(
    root: Logger,
    private readonly check: string,
    private readonly type: string,
  ) {
    super(root);
  }

  protected bindings(): Record<string, unknown> {
    return { check: this.check, type: this.type };
  }
}
