// Logs: JSON lines for collectors, readable lines for a person at a terminal.
import { expect, test } from 'bun:test';
import { createLogger } from '../src/log.ts';
import { waitFor } from './helpers/wait.ts';

function capture(isTTY: boolean) {
  const lines: string[] = [];
  return { lines, out: { isTTY, write: (text: string) => void lines.push(text) } };
}

test('on a terminal a line reads as time, level (unless info), message and fields, and first clears the line', async () => {
  const { lines, out } = capture(true);
  const logger = createLogger('info', out);
  logger.info({ role: 'all', url: 'http://127.0.0.1:3000', startMs: 120 }, 'stratus started');
  logger.debug('not shown at info');
  logger.warn({ err: new Error('broker gone') }, 'kafka cluster unreachable');
  // Lines come out in the order they were logged: once the warning is out, the debug line would be out
  // before it.
  await waitFor(() => lines.some((line) => line.includes('kafka cluster unreachable')));
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^\r\x1b\[2K\d\d:\d\d:\d\d stratus started role=all url=http:\/\/127\.0\.0\.1:3000 startMs=120\n$/);
  expect(lines[1]).toMatch(/^\r\x1b\[2K\d\d:\d\d:\d\d WARN kafka cluster unreachable err="broker gone"\n$/);
});

test('anywhere else every line is one JSON document, fields and all', async () => {
  const { lines, out } = capture(false);
  createLogger('info', out).info({ role: 'all' }, 'stratus started');
  await waitFor(() => lines.length > 0);
  expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([expect.objectContaining({ msg: 'stratus started', role: 'all', service: 'stratus', level: 30 })]);
});
