// The producer side of KafkaTransport. Publishes made in the same turn of the event loop go out as one
// `sendBatch` (one produce request per broker instead of one per message); while a send is in flight the
// next batch gathers (src/flow/batcher.ts), so batches grow with load on their own.
//
// Retries are ours, not kafkajs's. kafkajs 2.2.4 remembers, across the retries of one sendBatch, which
// brokers already acknowledged their part; when a broker dies, the partitions it led move to the brokers
// that answered, and the retry then skips them: sendBatch resolves although those messages were never
// written (a lost request; test/adapters/transport/kafka/publisher.test.ts replays it). So each kafkajs
// call makes one attempt, and a failed batch is sent again whole, through a fresh call. A part that had
// landed arrives twice: at-least-once, which consumers and the reply matching take (a lost one they could
// not). kafkajs's idempotent producer insists on retrying inside the call, so the producer is not
// idempotent; with one request in flight per broker, order within a partition holds all the same.
import type { Message, Producer, ProducerConfig, TopicMessages } from 'kafkajs';
import { Batcher } from '../../../flow/batcher.ts';
import { systemClock, type Clock } from '../../../flow/clock.ts';
import { RetriesExhausted, retry, type RetryPolicy } from '../../../flow/retry.ts';

/** The producer settings the publisher's retry scheme relies on (see the header). */
export const PRODUCER_SETTINGS = Object.freeze({
  idempotent: false,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  retry: Object.freeze({ retries: 0 }),
}) satisfies ProducerConfig;

/** A failure a later try may not meet: the broker was out of reach or slow, or the error says so. */
export function isTransient(error: unknown): boolean {
  const { name, retriable } = (error ?? {}) as { name?: unknown; retriable?: unknown };
  return (
    retriable === true ||
    /^KafkaJS(NumberOfRetriesExceeded|ConnectionError|ConnectionClosedError|RequestTimeoutError|MetadataNotLoaded|BrokerNotFound|LockTimeout)$/.test(String(name))
  );
}

export interface PublisherOptions {
  /** How long a batch is retried before its publishes reject: well over what a crashed broker's partitions
   * take to get a new leader (the controllers fence it after its broker session: 9 s by Kafka's default,
   * 1 to 3 s in ops/), plus one attempt that may itself wait out kafkajs's 30 s request timeout. */
  readonly giveUpAfterMs?: number;
  /** Pause after a failure (doubling per failure up to 100 ms, so the default is 100 ms throughout): a send
   * that waits for a crashed broker's partitions to move goes through within a tenth of a second of the
   * move, which comes a second after the crash in ops/dev and ops/k8s. A failed send costs a metadata
   * request and a connection attempt, no more. */
  readonly firstRetryDelayMs?: number;
  /** Times the pauses and the give-up: tests move a fake one instead of sleeping. */
  readonly clock?: Clock;
}

interface Queued {
  readonly topic: string;
  readonly message: Message;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class CoalescingPublisher {
  /** One sendBatch at a time; publishes made meanwhile leave together as the next one. */
  private readonly queue = new Batcher<Queued>({ maxSize: Number.POSITIVE_INFINITY, maxRunning: 1 }, (batch) => this.flush(batch));
  private abandoned: Error | null = null;
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;

  /** `outcome` hears of every send: the transport's health follows it. */
  constructor(
    private readonly producer: () => Producer,
    private readonly outcome: (ok: boolean) => void,
    options: PublisherOptions = {},
  ) {
    this.policy = { firstDelayMs: options.firstRetryDelayMs ?? 100, maxDelayMs: 100, budgetMs: options.giveUpAfterMs ?? 60_000 };
    this.clock = options.clock ?? systemClock;
  }

  publish(topic: string, message: Message): Promise<void> {
    if (this.abandoned) return Promise.reject(this.abandoned);
    return new Promise<void>((resolve, reject) => this.queue.add({ topic, message, resolve, reject }));
  }

  private async flush(batch: readonly Queued[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const item of batch) {
      let messages = byTopic.get(item.topic);
      if (!messages) byTopic.set(item.topic, (messages = []));
      messages.push(item.message);
    }
    const topicMessages: TopicMessages[] = [];
    for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages });
    try {
      await this.send(topicMessages);
      this.outcome(true);
      for (const item of batch) item.resolve();
    } catch (error) {
      this.outcome(false);
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const item of batch) item.reject(failure);
    }
  }

  /** One kafkajs call per attempt; a failed batch goes again whole (see the header). */
  private async send(topicMessages: TopicMessages[]): Promise<void> {
    try {
      await retry(
        // acks -1 = all in-sync replicas: with min.insync.replicas 2, a write survives one broker's crash.
        () => this.producer().sendBatch({ topicMessages, acks: -1 }),
        this.policy,
        { retriable: (error) => !this.abandoned && isTransient(error), onRetry: () => this.outcome(false), clock: this.clock },
      );
    } catch (error) {
      // Callers see the broker's own error, not the retry's wrapper.
      throw error instanceof RetriesExhausted ? error.last : error;
    }
  }

  /** Rejects whatever has not been handed to the producer yet, and every publish from now on; a batch
   * being sent makes no further attempt. */
  abandon(error: Error): void {
    this.abandoned = error;
    for (const item of this.queue.takeQueued()) item.reject(error);
  }
}
