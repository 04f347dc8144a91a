// Starts actors, restarts a crashed one after a growing delay, and stops them in the order they started:
// the gateway, started first, closes intake and drains while the consumers behind it still answer.
// An actor that stays up for `stableAfterMs` is forgiven its earlier crashes: the delay starts over.
import { systemClock, type Clock } from '../flow/clock.ts';
import { backoffDelay, type Backoff } from '../flow/retry.ts';
import type { Actor, ActorContext } from './actor.ts';

export interface RestartPolicy extends Backoff {
  /** An actor up this long is forgiven its earlier crashes. */
  readonly stableAfterMs: number;
}

export const DEFAULT_RESTART: RestartPolicy = Object.freeze({ firstDelayMs: 100, maxDelayMs: 10_000, stableAfterMs: 30_000 });

type BaseContext = Omit<ActorContext, 'crash'>;

interface Supervised {
  readonly actor: Actor;
  crashes: number;
  startedAt: number;
  restartTimer: unknown;
  /** Guards against a crash reported twice, or while the actor is already being restarted. */
  restarting: boolean;
}

export class Supervisor {
  private readonly children: Supervised[] = [];
  private stopping = false;

  constructor(
    private readonly context: BaseContext,
    private readonly restart: RestartPolicy = DEFAULT_RESTART,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Starts the actor; a failure to start counts as a crash and is retried like one. */
  async start(actor: Actor): Promise<void> {
    const child: Supervised = { actor, crashes: 0, startedAt: 0, restartTimer: null, restarting: false };
    this.children.push(child);
    await this.launch(child);
  }

  ready(): boolean {
    return this.children.every((child) => child.actor.ready());
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const child of this.children) {
      if (child.restartTimer !== null) this.clock.clearTimeout(child.restartTimer);
      await child.actor.stop();
    }
  }

  private async launch(child: Supervised): Promise<void> {
    child.startedAt = this.clock.now();
    try {
      await child.actor.start({ ...this.context, crash: (error) => this.crashed(child, error) });
    } catch (error) {
      this.crashed(child, error);
    }
  }

  private crashed(child: Supervised, error: unknown): void {
    if (this.stopping || child.restarting) return;
    child.restarting = true;
    if (this.clock.now() - child.startedAt >= this.restart.stableAfterMs) child.crashes = 0;
    child.crashes++;
    const delayMs = backoffDelay(this.restart, child.crashes);
    this.context.metrics.actorRestarts.inc({ actor: child.actor.name });
    this.context.logger.error(
      { actor: child.actor.name, crashes: child.crashes, restartInMs: delayMs, err: error },
      'actor crashed; restarting',
    );
    void child.actor.stop().finally(() => {
      if (this.stopping) return;
      child.restartTimer = this.clock.setTimeout(() => {
        child.restartTimer = null;
        child.restarting = false;
        if (!this.stopping) void this.launch(child);
      }, delayMs);
    });
  }
}
