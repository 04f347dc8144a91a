// `stratus feedback export`: the samples of the local store as JSON lines, as a user runs it.
import { afterAll, expect, test } from 'bun:test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import { MAIN, runToEnd } from '../helpers/process.ts';

const scratch = await mkdtemp(join(tmpdir(), 'stratus-export-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

const image = (seed: number) => Array.from({ length: 784 }, (_, i) => ((i * seed) % 256) / 255);

test('exports every accepted sample, newest first, with its pixels as 784 grey levels and without its session', async () => {
  const dataDir = join(scratch, 'data');
  const store = new PouchStore({ adapter: 'leveldb', directory: join(dataDir, 'store') });
  await store.open();
  for (const [i, label] of [7, 1, 4, 9].entries()) {
    const id = await store.saveFeedback({ requestId: `r${i}`, label, predicted: 2, modelVersion: 'm1', pixels: image(i + 3), createdAt: new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(), sessionId: `secret-session-${i}` });
    // The newest is left unreviewed: a visitor's label, which the trainer would not take either.
    if (i < 3) await store.reviewFeedback(id, label, 'accepted');
  }
  await store.close();

  const out = join(scratch, 'feedback.jsonl');
  const run = await runToEnd(['bun', MAIN, 'feedback', 'export', '--data-dir', dataDir, '--out', out]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toBe(`exported 3 feedback samples to ${out}\n`);
  const text = await readFile(out, 'utf8');
  expect(text).not.toContain('secret-session');
  const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line));
  expect(lines.map((line) => [line.requestId, line.label, line.predicted, line.modelVersion])).toEqual([['r2', 4, 2, 'm1'], ['r1', 1, 2, 'm1'], ['r0', 7, 2, 'm1']]);
  expect(lines[0].pixels).toEqual(image(5).map((value) => Math.round(value * 255)));
  expect(lines[0].id).toMatch(/^image-/);
}, 60_000);

test('a wrong command line is one line and exit code 2; a store held by another process, one line and 1', async () => {
  const cases = [
    ['feedback', 'export'],
    ['feedback', 'import', '--out', 'x'],
    ['feedback', 'export', '--out', 'x', '--epochs', '3'],
    ['feedback', 'export', '--out', 'x', '--store', 'memory'],
    ['feedback', 'export', '--out', 'x', '--store', 'couchdb'],
  ];
  for (const args of cases) {
    const run = await runToEnd(['bun', MAIN, ...args]);
    expect([args.join(' '), run.code]).toEqual([args.join(' '), 2]);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  }
  const dataDir = join(scratch, 'held');
  const holder = new PouchStore({ adapter: 'leveldb', directory: join(dataDir, 'store') });
  await holder.open();
  try {
    const run = await runToEnd(['bun', MAIN, 'feedback', 'export', '--data-dir', dataDir, '--out', join(scratch, 'never.jsonl')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^stratus: feedback export failed: --data-dir .* is in use by a running stratus/);
    expect(await Bun.file(join(scratch, 'never.jsonl')).exists()).toBe(false);
  } finally {
    await holder.close();
  }
}, 60_000);
