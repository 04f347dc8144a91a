import { expect, test } from 'bun:test';
import { ACTIVE_MS, FairShare } from '../../src/flow/fair-share.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

const enterTimes = (slots: FairShare, client: string, times: number) => Array.from({ length: times }, () => slots.enter(client));

test('a lone client may take every slot; past the total, full', () => {
  const slots = new FairShare(4, new FakeClock());
  expect(enterTimes(slots, 'a', 5)).toEqual(['admitted', 'admitted', 'admitted', 'admitted', 'full']);
  expect(slots.inUse).toBe(4);
});

test('with two clients holding slots, neither takes more than half', () => {
  const slots = new FairShare(8, new FakeClock());
  expect(slots.enter('b')).toBe('admitted');
  expect(enterTimes(slots, 'a', 5)).toEqual(['admitted', 'admitted', 'admitted', 'admitted', 'over_share']);
  // Slots are free, but they are b's share.
  expect(slots.inUse).toBe(5);
  expect(enterTimes(slots, 'b', 4)).toEqual(['admitted', 'admitted', 'admitted', 'over_share']);
});

test('a client that found every slot taken shrinks the holder\'s share, and gets the next slot that frees', () => {
  const clock = new FakeClock();
  const slots = new FairShare(4, clock);
  enterTimes(slots, 'flood', 4);
  expect(slots.enter('quiet')).toBe('full');
  slots.leave('flood');
  // The flood holds 3, over its share of 2 now that quiet wants a slot: the freed slot waits for quiet.
  expect(slots.enter('flood')).toBe('over_share');
  expect(slots.enter('quiet')).toBe('admitted');
  // Quiet sends one request at a time: between two it holds nothing, and still counts.
  slots.leave('quiet');
  slots.leave('flood');
  expect(slots.enter('flood')).toBe('over_share');
  slots.leave('flood');
  expect(slots.enter('flood')).toBe('admitted');
  expect(slots.enter('flood')).toBe('over_share');
  expect(slots.enter('quiet')).toBe('admitted');
});

test('a client stops counting once it has not asked for a while, and the others\' shares grow back', () => {
  const clock = new FakeClock();
  const slots = new FairShare(4, clock);
  expect(slots.enter('b')).toBe('admitted');
  slots.leave('b');
  expect(enterTimes(slots, 'a', 3)).toEqual(['admitted', 'admitted', 'over_share']);
  clock.advance(ACTIVE_MS + 1);
  expect(enterTimes(slots, 'a', 3)).toEqual(['admitted', 'admitted', 'full']);
});

test('however many clients come and go, what is remembered stays bounded and the count of wanting clients right', () => {
  const clock = new FakeClock();
  const slots = new FairShare(10_000, clock);
  for (let i = 0; i < 20_000; i++) {
    expect(slots.enter(`client ${i}`)).toBe('admitted');
    slots.leave(`client ${i}`);
  }
  clock.advance(ACTIVE_MS + 1);
  // Every one of them is forgotten: a lone client may take every slot again.
  expect(enterTimes(slots, 'last', 10_000).every((entry) => entry === 'admitted')).toBe(true);
});

test('leaving gives the slot back; leaving a slot never taken changes nothing', () => {
  const slots = new FairShare(2, new FakeClock());
  slots.enter('a');
  slots.leave('a');
  slots.leave('a');
  slots.leave('nobody');
  expect(slots.inUse).toBe(0);
  expect(enterTimes(slots, 'a', 3)).toEqual(['admitted', 'admitted', 'full']);
});
