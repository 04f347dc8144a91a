// Request/reply on top of publish/subscribe, shared by every transport: each transport instance owns one
// inbox topic, subscribed once for its lifetime, and matches replies to waiting callers by correlation id.
import {
  HEADER,
  RequestTimeoutError,
  TransportClosedError,
  type Delivery,
  type Envelope,
  type OutgoingMessage,
  type Subscription,
  type Transport,
} from './transport.ts';

interface Pending {
  resolve(reply: Envelope): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

type PubSub = Pick<Transport, 'publish' | 'subscribe'>;

export class RequestReply {
  readonly inbox: string;
  private readonly pending = new Map<string, Pending>();
  private subscription: Subscription | null = null;
  private nextId = 0;

  constructor(
    private readonly pubsub: PubSub,
    instanceId: string,
  ) {
    this.inbox = `stratus.replies.${instanceId}`;
  }

  async start(): Promise<void> {
    this.subscription = await this.pubsub.subscribe(this.inbox, { group: this.inbox, concurrency: 1 << 20 }, async (reply) =>
      this.settle(reply),
    );
  }

  async close(): Promise<void> {
    await this.subscription?.unsubscribe();
    this.subscription = null;
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new TransportClosedError('transport closed before the reply arrived'));
      this.pending.delete(id);
    }
  }

  request(topic: string, message: OutgoingMessage, timeoutMs: number): Promise<Envelope> {
    if (!this.subscription) return Promise.reject(new TransportClosedError('transport is not started'));
    const correlationId = `${this.inbox}:${++this.nextId}`;
    const reply = new Promise<Envelope>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new RequestTimeoutError(`no reply on ${topic} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer });
    });
    const headers = { ...message.headers, [HEADER.correlationId]: correlationId, [HEADER.replyTo]: this.inbox };
    this.pubsub.publish(topic, { ...message, headers }).catch((error: Error) => this.fail(correlationId, error));
    return reply;
  }

  async reply(request: Delivery, message: Omit<OutgoingMessage, 'key'>): Promise<void> {
    const replyTo = request.headers[HEADER.replyTo];
    const correlationId = request.headers[HEADER.correlationId];
    if (!replyTo || !correlationId) throw new Error(`message on ${request.topic} was not sent as a request`);
    const headers = { ...message.headers, [HEADER.correlationId]: correlationId };
    await this.pubsub.publish(replyTo, { key: correlationId, value: message.value, headers });
  }

  private settle(reply: Delivery): void {
    const correlationId = reply.headers[HEADER.correlationId];
    const waiting = correlationId === undefined ? undefined : this.pending.get(correlationId);
    // A late reply (after a timeout) or a second reply to a redelivered request has nobody waiting: drop it.
    if (!waiting || correlationId === undefined) return;
    this.pending.delete(correlationId);
    clearTimeout(waiting.timer);
    waiting.resolve(reply);
  }

  private fail(correlationId: string, error: Error): void {
    const waiting = this.pending.get(correlationId);
    if (!waiting) return;
    this.pending.delete(correlationId);
    clearTimeout(waiting.timer);
    waiting.reject(error);
  }
}
