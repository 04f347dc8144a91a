// The only way actors talk to each other. Implementations: MemoryTransport (one process) and, in cluster
// mode, KafkaTransport; registry.ts lists them with what each can do. Both must pass
// test/adapters/transport/transport.conformance.ts.

export interface Envelope {
  /** Partitioning key where no lane is chosen; requests carry their (first) request id. */
  readonly key: string;
  readonly value: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

export interface Delivery extends Envelope {
  readonly topic: string;
  /** 1 on first delivery; grows each time a failed handler makes the transport deliver again. */
  readonly attempt: number;
  /** The partition it came from, on transports that have partitions. */
  readonly lane?: number;
}

/** Resolving acknowledges the message; rejecting asks for redelivery (at-least-once). */
export type Handler = (message: Delivery) => Promise<void>;

export interface SubscribeOptions {
  /** Members of one group share the topic's messages; each group sees every message. */
  readonly group: string;
  /** Unacknowledged messages one member holds at once; batching consumers need this above their batch size. */
  readonly concurrency?: number;
}

export interface Subscription {
  unsubscribe(): Promise<void>;
}

export interface Transport {
  readonly name: string;
  start(): Promise<void>;
  /** Stops deliveries, rejects pending requests, releases connections. Safe to call twice. */
  close(): Promise<void>;
  healthy(): boolean;
  publish(topic: string, message: OutgoingMessage): Promise<void>;
  subscribe(topic: string, options: SubscribeOptions, handler: Handler): Promise<Subscription>;
  /** Publishes and waits for the reply carrying the same correlation id. */
  request(topic: string, message: OutgoingMessage, timeoutMs: number, options?: RequestOptions): Promise<Envelope>;
  /** Answers a delivery that came from `request`. */
  reply(request: Delivery, message: Omit<OutgoingMessage, 'key'>): Promise<void>;
}

export interface OutgoingMessage {
  readonly key: string;
  readonly value: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** The partition to publish to, on transports that have partitions; otherwise the key decides. */
  readonly lane?: number;
}

export interface RequestOptions {
  /**
   * With no reply after this long, the request is published once more (a hedge), to the partition whose
   * replies arrived last where the transport has partitions; the first reply wins and a later one is
   * dropped. Only for requests whose handlers may run twice (the consumer stores by request id).
   */
  readonly hedgeAfterMs?: number;
  /** Asked when the hedge is due: false skips it (the caller's budget of hedges is spent). */
  readonly mayHedge?: () => boolean;
}

export const HEADER = Object.freeze({
  correlationId: 'stratus-correlation-id',
  replyTo: 'stratus-reply-to',
  /** On a reply: the partition its request was read from, so the requester learns which lanes answer. */
  lane: 'stratus-lane',
  /** On a reply: which transport instance sent it, so the requester learns which lanes share a member. */
  member: 'stratus-member',
  deadLetterReason: 'stratus-dead-letter-reason',
  deadLetterTopic: 'stratus-dead-letter-topic',
});

/** Where messages go that no handler could process after every allowed attempt. */
export const deadLetterTopic = (topic: string): string => `${topic}.dead-letter`;

export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}

export class TransportClosedError extends Error {
  override readonly name = 'TransportClosedError';
}
