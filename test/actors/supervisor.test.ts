import { describe, expect, test } from 'bun:test';
import type { Actor, ActorContext } from '../../src/actors/actor.ts';
import { Supervisor } from '../../src/actors/supervisor.ts';
import { MemoryTransport } from '../../src/adapters/transport/memory-transport.ts';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import { DEFAULTS } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { waitFor } from '../helpers/wait.ts';

class FlakyActor implements Actor {
  readonly name = 'flaky';
  starts = 0;
  stops = 0;
  context: ActorContext | null = null;
  failStartsLeft = 0;
  async start(context: ActorContext) {
    this.starts++;
    this.context = context;
    if (this.failStartsLeft-- > 0) throw new Error('cannot start yet');
  }
  async stop() {
    this.stops++;
  }
  ready() {
    return this.context !== null;
  }
}

function setup() {
  const clock = new FakeClock();
  const metrics = new Metrics();
  const context = {
    config: DEFAULTS,
    transport: new MemoryTransport(),
    store: new PouchStore({ adapter: 'memory', directory: 'supervisor-test' }),
    logger: createLogger('silent'),
    metrics,
  };
  const restart = { firstDelayMs: 100, maxDelayMs: 1_000, stableAfterMs: 5_000 };
  return { clock, metrics, supervisor: new Supervisor(context, restart, clock) };
}

describe('supervision', () => {
  test('a crashed actor is stopped and restarted after the backoff delay', async () => {
    const { clock, supervisor, metrics } = setup();
    const actor = new FlakyActor();
    await supervisor.start(actor);
    actor.context?.crash(new Error('boom'));
    await waitFor(() => actor.stops === 1 && clock.pending === 1);
    clock.advance(99);
    expect(actor.starts).toBe(1);
    clock.advance(1);
    await waitFor(() => actor.starts === 2);
    expect((await metrics.registry.getSingleMetricAsString('stratus_actor_restarts_total'))).toContain('actor="flaky"} 1');
  });

  test('repeated crashes back off exponentially, up to the cap', async () => {
    const { clock, supervisor } = setup();
    const actor = new FlakyActor();
    await supervisor.start(actor);
    const delays: number[] = [];
    for (let crash = 1; crash <= 6; crash++) {
      actor.context?.crash(new Error(`crash ${crash}`));
      await waitFor(() => clock.pending === 1);
      // Time moves a millisecond at a time until the restart comes: the delay it took. The restart timer
      // calls start() itself, so the count moves within advance().
      let waited = 0;
      while (actor.starts === crash) {
        clock.advance(1);
        waited++;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  test('a failure to start is retried like a crash', async () => {
    const { clock, supervisor } = setup();
    const actor = new FlakyActor();
    actor.failStartsLeft = 2;
    await supervisor.start(actor);
    await waitFor(() => clock.pending === 1);
    clock.advance(100);
    await waitFor(() => actor.starts === 2 && clock.pending === 1);
    clock.advance(199);
    expect(actor.starts).toBe(2);
    clock.advance(1);
    await waitFor(() => actor.starts === 3);
    expect(supervisor.ready()).toBe(true);
  });

  test('a crash reported twice restarts once', async () => {
    const { clock, supervisor } = setup();
    const actor = new FlakyActor();
    await supervisor.start(actor);
    actor.context?.crash(new Error('one'));
    actor.context?.crash(new Error('two'));
    await waitFor(() => clock.pending === 1);
    clock.advance(1_000);
    await waitFor(() => actor.starts === 2);
    expect(actor.stops).toBe(1);
  });

  test('stopAll cancels pending restarts', async () => {
    const { clock, supervisor } = setup();
    const actor = new FlakyActor();
    await supervisor.start(actor);
    actor.context?.crash(new Error('boom'));
    await waitFor(() => clock.pending === 1);
    await supervisor.stopAll();
    // The restart was on the clock's one timer; with it cleared, moving the clock can start nothing
    // (a restart timer runs start() before advance() returns).
    expect(clock.pending).toBe(0);
    clock.advance(10_000);
    expect(actor.starts).toBe(1);
  });
});
