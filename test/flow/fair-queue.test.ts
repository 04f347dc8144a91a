import { expect, test } from 'bun:test';
import { FairQueue } from '../../src/flow/fair-queue.ts';

const drain = <T>(queue: FairQueue<T>) => {
  const out: T[] = [];
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item);
  return out;
};

test('clients take turns, each in its own order', () => {
  const queue = new FairQueue<string>();
  for (let i = 1; i <= 4; i++) queue.push('flood', `f${i}`);
  queue.push('quiet', 'q1');
  queue.push('quiet', 'q2');
  expect(queue.size).toBe(6);
  expect(drain(queue)).toEqual(['f1', 'q1', 'f2', 'q2', 'f3', 'f4']);
  expect(queue.size).toBe(0);
});

test('a client that arrives late waits behind at most one item of each client before it', () => {
  const queue = new FairQueue<string>();
  for (let i = 1; i <= 100; i++) queue.push('flood', `f${i}`);
  expect(queue.shift()).toBe('f1');
  queue.push('late', 'l1');
  expect([queue.shift(), queue.shift()]).toEqual(['f2', 'l1']);
});
