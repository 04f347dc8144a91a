// JSON lines on stdout. No pino transports: they spawn worker threads that a compiled binary cannot load.
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'stratus' }, timestamp: pino.stdTimeFunctions.isoTime });
}
