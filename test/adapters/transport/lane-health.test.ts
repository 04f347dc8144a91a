// Choosing partitions by who answers: round the lanes, skipping one that let a request stall, for a
// probation that doubles while it keeps stalling; a hedge to the lane that answered last.
import { expect, test } from 'bun:test';
import { LaneHealth } from '../../../src/adapters/transport/lane-health.ts';
import { FakeClock } from '../../helpers/fake-clock.ts';

const TOPIC = 'requests';

test('requests go round the lanes', () => {
  const lanes = new LaneHealth(new FakeClock());
  expect(Array.from({ length: 8 }, () => lanes.pick(TOPIC, 4))).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
});

test('a lane that stalls is skipped for 1 s, then 2 s, then 4 s while it keeps stalling; a reply clears it', () => {
  const clock = new FakeClock();
  const lanes = new LaneHealth(clock);
  const picks = (n: number) => Array.from({ length: n }, () => lanes.pick(TOPIC, 3));
  expect(picks(3)).toEqual([0, 1, 2]);
  lanes.stalled(TOPIC, 1, clock.now());
  expect(picks(4)).toEqual([0, 2, 0, 2]);
  // More requests it held, reported while it is on probation, do not lengthen it.
  lanes.stalled(TOPIC, 1, clock.now());
  clock.advance(1_000);
  expect(picks(3)).toContain(1);
  lanes.stalled(TOPIC, 1, clock.now());
  clock.advance(1_999);
  expect(picks(6)).not.toContain(1);
  clock.advance(1);
  lanes.stalled(TOPIC, 1, clock.now());
  clock.advance(3_999);
  expect(picks(6)).not.toContain(1);
  lanes.answered(TOPIC, 1);
  expect(picks(3)).toContain(1);
});

test('a lane that answered after the stalled request was sent is slow, not gone: it stays', () => {
  const clock = new FakeClock();
  const lanes = new LaneHealth(clock);
  lanes.pick(TOPIC, 2);
  const sentAt = clock.now();
  clock.advance(10);
  lanes.answered(TOPIC, 0);
  lanes.stalled(TOPIC, 0, sentAt);
  expect([lanes.pick(TOPIC, 2), lanes.pick(TOPIC, 2)]).toEqual([1, 0]);
});

test('a hedge goes to the lane that answered last, never back to the stalled one', () => {
  const clock = new FakeClock();
  const lanes = new LaneHealth(clock);
  lanes.pick(TOPIC, 4);
  lanes.answered(TOPIC, 2);
  clock.advance(5);
  lanes.answered(TOPIC, 3);
  expect(lanes.pickAnswering(TOPIC, 4, 0)).toBe(3);
  expect(lanes.pickAnswering(TOPIC, 4, 3)).toBe(2);
  // On probation, the last to answer is passed over too.
  clock.advance(5);
  lanes.stalled(TOPIC, 3, clock.now() - 1);
  expect(lanes.pickAnswering(TOPIC, 4, 0)).toBe(2);
});

test('before any lane answered, a hedge still avoids the lane of the original', () => {
  const lanes = new LaneHealth(new FakeClock());
  for (let i = 0; i < 6; i++) expect(lanes.pickAnswering(TOPIC, 2, 0)).toBe(1);
});

test('when every lane is on probation, requests still go somewhere', () => {
  const clock = new FakeClock();
  const lanes = new LaneHealth(clock);
  lanes.pick(TOPIC, 2);
  lanes.stalled(TOPIC, 0, clock.now());
  lanes.stalled(TOPIC, 1, clock.now());
  expect([lanes.pick(TOPIC, 2), lanes.pick(TOPIC, 2)].sort()).toEqual([0, 1]);
});

test('when a lane stalls, the other lanes of its member go on probation with it: neither new requests nor a hedge go there', () => {
  const clock = new FakeClock();
  const lanes = new LaneHealth(clock);
  lanes.pick(TOPIC, 4);
  // Lanes 0 and 2 are served by consumer a, 1 and 3 by consumer b; a answered last, just before it hung.
  lanes.answered(TOPIC, 1, 'b');
  clock.advance(1);
  lanes.answered(TOPIC, 3, 'b');
  clock.advance(5);
  lanes.answered(TOPIC, 0, 'a');
  lanes.answered(TOPIC, 2, 'a');
  const sentAt = clock.now();
  clock.advance(300);
  lanes.stalled(TOPIC, 0, sentAt);
  expect(lanes.pickAnswering(TOPIC, 4, 0)).toBe(3);
  expect(Array.from({ length: 4 }, () => lanes.pick(TOPIC, 4))).toEqual([1, 3, 1, 3]);
  // A member that answered on another lane after the request was sent may have died since: the hedge
  // still goes elsewhere, and its lanes go on probation all the same.
  clock.advance(8_000);
  lanes.answered(TOPIC, 0, 'a');
  lanes.answered(TOPIC, 1, 'b');
  const sent = clock.now();
  clock.advance(5);
  lanes.answered(TOPIC, 2, 'a');
  clock.advance(300);
  lanes.stalled(TOPIC, 0, sent);
  expect(lanes.pickAnswering(TOPIC, 4, 0)).toBe(1);
  expect(Array.from({ length: 4 }, () => lanes.pick(TOPIC, 4))).not.toContain(2);
});
