// The shared-memory exchange of the worker threads (src/train/parallel/shared-allreduce.ts).
import { describe, expect, test } from 'bun:test';
import { abortAllReduce, createAllReduceBuffers, SharedAllReduce } from '../../../src/train/parallel/shared-allreduce.ts';

describe('SharedAllReduce', () => {
  test('a worker left alone at a barrier fails after the timeout instead of hanging', () => {
    const buffers = createAllReduceBuffers(2, 4);
    const lonely = new SharedAllReduce(buffers, 0, 150);
    const started = performance.now();
    expect(() => lonely.average()).toThrow(/worker 0 waited .* for the other workers: one stalled or died/);
    // A lower bound only: the timeout was waited out (a slow machine adds to it; 10 ms off for a wait
    // that ends a little early).
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  test('an aborted exchange fails at once', () => {
    const buffers = createAllReduceBuffers(2, 4);
    abortAllReduce(buffers);
    expect(() => new SharedAllReduce(buffers, 1, 10_000).barrier()).toThrow(/training aborted/);
  });

  test('a rank outside the worker count is refused', () => {
    expect(() => new SharedAllReduce(createAllReduceBuffers(2, 4), 2, 100)).toThrow(/rank 2/);
  });
});
