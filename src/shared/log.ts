// pino NDJSON on stderr (stdout carries the report). Credentials are redacted by path, and nothing
// in sipstorm logs a password or an Authorization value on purpose.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = 'warn'): Logger {
  return pino(
    {
      name: 'sipstorm',
      level,
      redact: { paths: ['password', '*.password', 'authorization', '*.authorization', 'nonce', '*.nonce'], censor: '[redacted]' },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
