// In-process transport for the single-process demo and for tests. Same contract as Kafka: consumer groups,
// at-least-once with redelivery of failed messages, a dead-letter topic after the last attempt.
// Several MemoryTransport instances joined to one MemoryBroker behave like processes sharing a cluster.
import { coalesced } from '../../flow/clock.ts';
import { backoffDelay } from '../../flow/retry.ts';
import { RequestReply } from './request-reply.ts';
import { HEADER, TransportClosedError, deadLetterTopic, type Delivery, type Envelope, type Handler, type OutgoingMessage, type RequestOptions, type SubscribeOptions, type Subscription, type Transport } from './transport.ts';

export interface MemoryBrokerOptions {
  /** Deliveries of one message before it goes to the dead-letter topic. */
  readonly maxAttempts?: number;
  /** Delay before redelivery grows from this, doubling per attempt. */
  readonly retryDelayMs?: number;
}

interface Member {
  readonly handler: Handler;
  readonly concurrency: number;
  inFlight: number;
}

interface Queued {
  readonly topic: string;
  readonly envelope: Envelope;
  readonly attempt: number;
}

class Group {
  private readonly members: Member[] = [];
  private queue: Queued[] = [];
  private head = 0;
  private next = 0;

  constructor(
    private readonly broker: MemoryBroker,
    readonly id: string,
  ) {}

  join(member: Member): void {
    this.members.push(member);
    this.schedule();
  }

  leave(member: Member): void {
    const index = this.members.indexOf(member);
    if (index !== -1) this.members.splice(index, 1);
  }

  enqueue(item: Queued): void {
    this.queue.push(item);
    this.schedule();
  }

  // Dispatch runs in a microtask so a publish never re-enters a handler synchronously.
  private readonly schedule = coalesced(() => this.dispatch(), queueMicrotask);

  private dispatch(): void {
    while (this.head < this.queue.length) {
      const member = this.pickMember();
      if (!member) break;
      const item = this.queue[this.head] as Queued;
      this.queue[this.head++] = undefined as unknown as Queued;
      this.deliver(member, item);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private pickMember(): Member | undefined {
    for (let tried = 0; tried < this.members.length; tried++) {
      const member = this.members[this.next++ % this.members.length] as Member;
      if (member.inFlight < member.concurrency) return member;
    }
    return undefined;
  }

  private deliver(member: Member, item: Queued): void {
    member.inFlight++;
    const delivery: Delivery = { ...item.envelope, topic: item.topic, attempt: item.attempt };
    let outcome: Promise<void>;
    try {
      outcome = member.handler(delivery);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      () => this.done(member),
      (error: unknown) => {
        this.done(member);
        this.broker.failed(this, item, error);
      },
    );
  }

  private done(member: Member): void {
    member.inFlight--;
    this.schedule();
  }
}

export class MemoryBroker {
  private readonly topics = new Map<string, Map<string, Group>>();
  readonly maxAttempts: number;
  readonly retryDelayMs: number;

  constructor(options: MemoryBrokerOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 20;
  }

  publish(topic: string, envelope: Envelope): void {
    const groups = this.topics.get(topic);
    if (!groups) return;
    for (const group of groups.values()) group.enqueue({ topic, envelope, attempt: 1 });
  }

  join(topic: string, groupId: string, member: Member): () => void {
    const group = this.group(topic, groupId);
    group.join(member);
    // The group outlives its members, like a Kafka consumer group: what is published while a consumer
    // restarts waits for it instead of being lost.
    return () => group.leave(member);
  }

  failed(group: Group, item: Queued, error: unknown): void {
    if (item.attempt < this.maxAttempts) {
      const delay = backoffDelay({ firstDelayMs: this.retryDelayMs, maxDelayMs: Number.POSITIVE_INFINITY }, item.attempt);
      // Looked up again when the delay ends: if every member left meanwhile, the message waits in the
      // group for the next one to join, as an uncommitted Kafka offset would.
      setTimeout(() => this.group(item.topic, group.id).enqueue({ ...item, attempt: item.attempt + 1 }), delay);
      return;
    }
    const reason = error instanceof Error ? error.message : String(error);
    const headers = { ...item.envelope.headers, [HEADER.deadLetterReason]: reason, [HEADER.deadLetterTopic]: item.topic };
    this.publish(deadLetterTopic(item.topic), { ...item.envelope, headers });
  }

  private group(topic: string, groupId: string): Group {
    let groups = this.topics.get(topic);
    if (!groups) this.topics.set(topic, (groups = new Map()));
    let group = groups.get(groupId);
    if (!group) groups.set(groupId, (group = new Group(this, groupId)));
    return group;
  }

  /** For a topic nobody will read again, such as a closed transport's reply inbox. */
  deleteTopic(topic: string): void {
    this.topics.delete(topic);
  }
}

export class MemoryTransport implements Transport {
  readonly name = 'memory';
  private readonly requests: RequestReply;
  private readonly subscriptions = new Set<Subscription>();
  private open = false;

  constructor(
    private readonly broker: MemoryBroker = new MemoryBroker(),
    instanceId: string = crypto.randomUUID(),
  ) {
    this.requests = new RequestReply(this, instanceId);
  }

  async start(): Promise<void> {
    this.open = true;
    await this.requests.start();
  }

  async close(): Promise<void> {
    if (!this.open) return;
    await this.requests.close();
    this.broker.deleteTopic(this.requests.inbox);
    for (const subscription of [...this.subscriptions]) await subscription.unsubscribe();
    this.open = false;
  }

  healthy(): boolean {
    return this.open;
  }

  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    if (!this.open) throw new TransportClosedError('memory transport is closed');
    this.broker.publish(topic, { key: message.key, value: message.value, headers: message.headers ?? {} });
  }

  async subscribe(topic: string, options: SubscribeOptions, handler: Handler): Promise<Subscription> {
    if (!this.open) throw new TransportClosedError('memory transport is closed');
    const member: Member = { handler, concurrency: options.concurrency ?? 1, inFlight: 0 };
    const leave = this.broker.join(topic, options.group, member);
    const subscription: Subscription = {
      unsubscribe: async () => {
        if (!this.subscriptions.delete(subscription)) return;
        leave();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  request(topic: string, message: OutgoingMessage, timeoutMs: number, options?: RequestOptions): Promise<Envelope> {
    return this.requests.request(topic, message, timeoutMs, options);
  }

  reply(request: Delivery, message: Omit<OutgoingMessage, 'key'>): Promise<void> {
    return this.requests.reply(request, message);
  }
}
