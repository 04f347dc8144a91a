// What names a distributed run (src/train/distributed/job-id.ts).
import { expect, test } from 'bun:test';
import { defaultJobId, jobTopics } from '../../../src/train/distributed/job-id.ts';

test('the default job id follows the recipe, and topics stay within Kafka names', () => {
  const base = { arch: 'seed', seed: 1, epochs: 2, batchSize: 64, maxSamples: null, learningRate: 0.001, worldSize: 2, sync: 'gradients', syncEvery: 8 };
  expect(defaultJobId(base)).toBe(defaultJobId({ ...base }));
  expect(defaultJobId(base)).not.toBe(defaultJobId({ ...base, worldSize: 3 }));
  expect(jobTopics('a b/c').up).toBe('stratus.train.a_b_c.up');
});
