// How the data is cut between workers or ranks (src/train/parallel/shards.ts).
import { describe, expect, test } from 'bun:test';
import { scoreShare, shardedSamples, trainShard } from '../../../src/train/parallel/shards.ts';

describe('shards', () => {
  test('every worker gets as many training samples, none twice, fewer than N left out', () => {
    const order = Uint32Array.from({ length: 103 }, (_, i) => (i * 37) % 103);
    const shards = [0, 1, 2].map((rank) => trainShard(order, rank, 3));
    expect(shards.map((s) => s.length)).toEqual([34, 34, 34]);
    const seen = new Set(shards.flatMap((s) => [...s]));
    expect(seen.size).toBe(102);
  });

  test('scoring shares cover the split exactly once, in order', () => {
    const indices = Uint32Array.from({ length: 10 }, (_, i) => i);
    const shares = [0, 1, 2].map((rank) => [...scoreShare(indices, rank, 3)]);
    expect(shares.flat()).toEqual([...indices]);
  });

  test('an epoch trains what equal shards leave, and a set too small for a batch each is refused', () => {
    expect(shardedSamples(103, 3, 10, 'worker')).toBe(102);
    expect(() => shardedSamples(59, 2, 30, 'rank')).toThrow('59 training samples are fewer than one batch of 30 per rank');
  });
});
