// The producer side of KafkaTransport. Publishes made in the same tick go out as one `sendBatch` (one
// produce request per broker instead of one per message); while a send is in flight the next batch
// gathers, so batches grow with load on their own.
import type { Message, Producer, TopicMessages } from 'kafkajs';

/** The idempotent producer's sequence numbers no longer match the broker's, as happens after a leader
 * crashed mid-send: every later send to that partition would fail the same way until a new producer id. */
export function isSequenceError(error: unknown): boolean {
  const { type, cause } = (error ?? {}) as { type?: unknown; cause?: unknown };
  if (/^(OUT_OF_ORDER_SEQUENCE_NUMBER|DUPLICATE_SEQUENCE_NUMBER|INVALID_PRODUCER_EPOCH|UNKNOWN_PRODUCER_ID)$/.test(String(type))) return true;
  // kafkajs wraps the broker's error when it gave up retrying.
  return cause !== undefined && cause !== error && isSequenceError(cause);
}

const SEND_ROUNDS = 2;

/** A failure a later try may not meet: the broker was out of reach or slow, or the error says so. */
function isTransient(error: unknown): boolean {
  const { name, retriable } = (error ?? {}) as { name?: unknown; retriable?: unknown };
  return retriable === true || /^KafkaJS(NumberOfRetriesExceeded|ConnectionError|ConnectionClosedError|RequestTimeoutError)$/.test(String(name));
}

/** What the publisher sends through; `renew` swaps in a producer with a new id (see isSequenceError). */
export interface ProducerHandle {
  current(): Producer;
  renew(): Promise<void>;
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

  /** `outcome` hears of every send: the transport's health follows it. */
  constructor(
    private readonly producer: ProducerHandle,
    private readonly outcome: (ok: boolean) => void,
  ) {}

  publish(topic: string, message: Message): Promise<void> {
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
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
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

  // kafkajs gives a send up after its own retries (~25 s against a crashed partition leader), sometimes just
  // before the cluster moves the leadership; and a leader crashing mid-send can leave the idempotent
  // producer with sequence numbers the broker refuses from then on. One more round covers both, the
  // second with a fresh producer id. A first try that did land means the message arrives twice:
  // at-least-once, which consumers and the reply matching take (a lost reply they could not).
  private async send(topicMessages: TopicMessages[]): Promise<void> {
    for (let round = 1; ; round++) {
      try {
        // acks -1 = all in-sync replicas; the idempotent producer requires it anyway.
        await this.producer.current().sendBatch({ topicMessages, acks: -1 });
        return;
      } catch (error) {
        if (round >= SEND_ROUNDS || !(isSequenceError(error) || isTransient(error))) throw error;
        this.outcome(false);
        if (isSequenceError(error)) await this.producer.renew();
        else await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /** Rejects whatever has not been handed to the producer yet. */
  abandon(error: Error): void {
    const queued = this.queue;
    this.queue = [];
    for (const item of queued) item.reject(error);
  }
}
