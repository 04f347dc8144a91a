// Logs on stdout: JSON lines for whatever collects them (a pipe, a file, Kubernetes), and the same lines
// made readable for a person at a terminal. No pino transports: they spawn worker threads that a
// compiled binary cannot load.
import pino, { type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where log lines go: a terminal (isTTY) gets readable lines, anything else the JSON. */
export interface LogOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export function createLogger(level: LogLevel, out: LogOutput = process.stdout): Logger {
  const options = { level, base: { service: 'stratus' }, timestamp: pino.stdTimeFunctions.isoTime };
  // JSON to a pipe or file goes through pino's own writer on fd 1: the fastest way there.
  if (out === process.stdout && !out.isTTY) return pino(options);
  return pino(options, { write: (line: string) => void out.write(out.isTTY ? readable(line) : line) });
}

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** Fields every line carries that a person at the terminal does not need to read again. */
const UNREAD = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

/**
 * One JSON log line as a person reads it: the time of day, the level unless it is info, the message,
 * then the other fields as key=value. It starts by clearing the terminal's line, so that a progress bar
 * being redrawn there (the trainer's) makes way instead of running into the text.
 */
export function readable(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
  const level = LEVEL_NAMES[entry.level as number] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([key]) => !UNREAD.has(key))
    .map(([key, value]) => `${key}=${shown(key, value)}`);
  return `\r\x1b[2K${[time, level === 'info' ? '' : level.toUpperCase(), String(entry.msg ?? ''), ...fields].filter(Boolean).join(' ')}\n`;
}

/** An error shows its message (its stack is in the JSON, for whoever collects it); a string as it is. */
function shown(key: string, value: unknown): string {
  if (key === 'err' && value !== null && typeof value === 'object' && 'message' in value) return JSON.stringify((value as { message: unknown }).message);
  return typeof value === 'string' ? value : JSON.stringify(value);
}
