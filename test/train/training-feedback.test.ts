// What --include-feedback trains on and `stratus feedback export` writes (trainingFeedback, one read for
// both): accepted samples only, an operator's imports included, and no more of one session than its share,
// however many of its labels an admin accepted; and the trainer role reads it so.
import { afterEach, expect, test } from 'bun:test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import { FEEDBACK_PER_SESSION, type NewFeedback } from '../../src/adapters/store/store.ts';
import { trainingFeedback } from '../../src/train/feedback.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { MAIN, runToEnd } from '../helpers/process.ts';

let store: PouchStore | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
});

/** The n-th sample of `session` (none: imported), its own image; later n, later in time. */
const sample = (session: string | undefined, n: number): NewFeedback => ({
  requestId: `${session ?? 'import'}-${n}`,
  label: n % 10,
  predicted: -1,
  modelVersion: 'm1',
  pixels: Array.from({ length: 784 }, (_, i) => (i === n ? 1 : 0)),
  createdAt: new Date(Date.UTC(2026, 6, 1, 0, 0, 0, n)).toISOString(),
  ...(session === undefined ? {} : { sessionId: session }),
});

test('the trainer takes accepted samples only, and of one session at most its share, newest first', async () => {
  const open = new PouchStore({ adapter: 'memory', directory: `training-feedback-${crypto.randomUUID()}` });
  store = open;
  await open.open();
  const accept = async (feedback: NewFeedback) => open.reviewFeedback(await open.saveFeedback(feedback), feedback.label, 'accepted');
  await open.saveFeedback(sample(undefined, 0));
  await accept(sample('honest', 1));
  await open.saveFeedback(sample('honest', 2));
  const rejected = sample('honest', 3);
  await open.reviewFeedback(await open.saveFeedback(rejected), rejected.label, 'rejected');
  // A generous admin accepted every one of a prolific session's labels.
  for (let n = 10; n < 10 + FEEDBACK_PER_SESSION + 6; n++) await accept(sample('prolific', n));

  const taken = await trainingFeedback(open);
  expect(taken.every((s) => s.state === 'accepted')).toBe(true);
  const requests = taken.map((s) => s.requestId);
  expect(requests.filter((id) => id.startsWith('prolific-'))).toHaveLength(FEEDBACK_PER_SESSION);
  expect(requests.slice(0, 2)).toEqual([`prolific-${10 + FEEDBACK_PER_SESSION + 5}`, `prolific-${10 + FEEDBACK_PER_SESSION + 4}`]);
  expect(requests.slice(-2)).toEqual(['honest-1', 'import-0']);
  expect(requests).not.toContain('honest-2');
  expect(requests).not.toContain('honest-3');
  expect(taken).toHaveLength(FEEDBACK_PER_SESSION + 2);
});

test(
  'the trainer role reads only the accepted samples of the store it is given',
  async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'stratus-training-feedback-'));
    try {
      const dataDir = join(scratch, 'data');
      const local = new PouchStore({ adapter: 'leveldb', directory: join(dataDir, 'store') });
      await local.open();
      // Five visitors' labels, two of them accepted, one rejected, two never reviewed.
      for (let n = 0; n < 5; n++) {
        const feedback = sample(`visitor-${n}`, n);
        const id = await local.saveFeedback(feedback);
        if (n < 3) await local.reviewFeedback(id, feedback.label, n < 2 ? 'accepted' : 'rejected');
      }
      await local.close();
      const args = ['--role', 'trainer', '--arch', 'seed', '--include-feedback', '--data-dir', dataDir, '--mnist-dir', MNIST_DIR];
      const out = join(scratch, 'model');
      const run = await runToEnd(['bun', MAIN, ...args, '--max-samples', '64', '--epochs', '1', '--augment=false', '--port', '0', '--out', out]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('"samples":2');
      expect(JSON.parse(await readFile(join(out, 'metadata.json'), 'utf8'))).toMatchObject({ feedbackSamples: 2 });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  },
  120_000,
);
