// Rank 0's checkpoint format (src/train/distributed/checkpoint.ts).
import { expect, test } from 'bun:test';
import { decodeCheckpoint, encodeCheckpoint } from '../../../src/train/distributed/checkpoint.ts';

const sameBits = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

test('a checkpoint round-trips to the bit', () => {
  const weights = Float32Array.from({ length: 7 }, (_, i) => Math.fround(i / 3));
  const moments = Float32Array.from({ length: 14 }, (_, i) => Math.fround(-i / 7));
  const back = decodeCheckpoint(encodeCheckpoint({ jobId: 'j', epoch: 2, params: 7, weights, optimizer: { iterations: 40, accBeta: [0.5, 0.25], moments }, history: [] }));
  expect(back.epoch).toBe(2);
  expect(back.optimizer.iterations).toBe(40);
  expect(back.optimizer.accBeta).toEqual([0.5, 0.25]);
  expect(sameBits(back.weights, weights)).toBe(true);
  expect(sameBits(back.optimizer.moments, moments)).toBe(true);
});
