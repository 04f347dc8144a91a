// JSON lines on stdout. No pino transports: they spawn worker threads that a compiled binary cannot load.
import pino, { type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'stratus' }, timestamp: pino.stdTimeFunctions.isoTime });
}
