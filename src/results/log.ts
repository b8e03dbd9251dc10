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
