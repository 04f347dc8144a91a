// src/actors/ holds the actors (gateway.ts, consumer.ts, trainer.ts), their supervision (supervisor.ts)
// and the errors they answer with (errors.ts). Actors import the layers below them (config, train, model,
// adapters, protocol, flow), never http/ or the runtime.
//
// An actor owns its state and reaches other actors only through the transport. Its mailbox is its
// transport subscription: deliveries wait there, bounded by the subscription's concurrency, until the
// actor takes them (the consumer takes them in batches, see src/flow/batcher.ts). The supervisor starts the actor,
// hears of its crashes through `crash`, and restarts it.
import type { Store } from '../adapters/store/store.ts';
import type { Transport } from '../adapters/transport/transport.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';

export interface ActorContext {
  readonly config: Config;
  readonly transport: Transport;
  readonly store: Store;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Report a failure the actor cannot recover from; the supervisor stops and restarts it. */
  crash(error: unknown): void;
}

export interface Actor {
  readonly name: string;
  start(context: ActorContext): Promise<void>;
  /** Stop taking work, finish what was taken, release what start acquired. Must not throw. */
  stop(): Promise<void>;
  /** True once started and able to do its work. */
  ready(): boolean;
}
