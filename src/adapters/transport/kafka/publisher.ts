// The producer side of KafkaTransport. Publishes made in the same tick go out as one `sendBatch` (one
// produce request per broker instead of one per message); while a send is in flight the next batch
// gathers, so batches grow with load on their own.
//
// Retries are ours, not kafkajs's. kafkajs 2.2.4 remembers, across the retries of one sendBatch, which
// brokers already acknowledged their part; when a broker dies, the partitions it led move to the brokers
// that answered, and the retry then skips them: sendBatch resolves although those messages were never
// written (a lost request, issue #5; test/adapters/kafka-publisher.test.ts replays it). So each kafkajs
// call makes one attempt, and a failed batch is sent again whole, through a fresh call. A part that had
// landed arrives twice: at-least-once, which consumers and the reply matching take (a lost one they could
// not). kafkajs's idempotent producer insists on retrying inside the call, so the producer is not
// idempotent; with one request in flight per broker, order within a partition holds all the same.
import type { Message, Producer, ProducerConfig, TopicMessages } from 'kafkajs';

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
   * take to get a new leader (the controller fences it after its 9 s session timeout), plus one attempt
   * that may itself wait out kafkajs's 30 s request timeout. */
  readonly giveUpAfterMs?: number;
  /** Pause after the first failure; it doubles per failure, up to 2 s. */
  readonly firstRetryDelayMs?: number;
}

interface Queued {
  readonly topic: string;
  readonly message: Message;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class CoalescingPublisher {
  private queue: Queued[] = [];
  private scheduled = false;
  private sending = false;
  private abandoned: Error | null = null;
  private readonly giveUpAfterMs: number;
  private readonly firstRetryDelayMs: number;

  /** `outcome` hears of every send: the transport's health follows it. */
  constructor(
    private readonly producer: () => Producer,
    private readonly outcome: (ok: boolean) => void,
    options: PublisherOptions = {},
  ) {
    this.giveUpAfterMs = options.giveUpAfterMs ?? 60_000;
    this.firstRetryDelayMs = options.firstRetryDelayMs ?? 100;
  }

  publish(topic: string, message: Message): Promise<void> {
    if (this.abandoned) return Promise.reject(this.abandoned);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, message, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.sending) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.sending || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.sending = true;
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
    } finally {
      this.sending = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async send(topicMessages: TopicMessages[]): Promise<void> {
    const started = Date.now();
    for (let failures = 0; ; failures++) {
      try {
        // acks -1 = all in-sync replicas: with min.insync.replicas 2, a write survives one broker's crash.
        await this.producer().sendBatch({ topicMessages, acks: -1 });
        return;
      } catch (error) {
        if (this.abandoned || !isTransient(error) || Date.now() - started >= this.giveUpAfterMs) throw error;
        this.outcome(false);
        await new Promise((resolve) => setTimeout(resolve, Math.min(this.firstRetryDelayMs * 2 ** failures, 2_000)));
      }
    }
  }

  /** Rejects whatever has not been handed to the producer yet, and every publish from now on; a batch
   * being sent makes no further attempt. */
  abandon(error: Error): void {
    this.abandoned = error;
    const queued = this.queue;
    this.queue = [];
    for (const item of queued) item.reject(error);
  }
}
