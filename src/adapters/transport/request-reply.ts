// Request/reply on top of publish/subscribe, shared by every transport: each transport instance owns one
// inbox topic, subscribed once for its lifetime, and matches replies to waiting callers by correlation id.
// On a transport with partitions it also chooses each request's partition by who answers (lane-health.ts),
// and a request may be hedged: sent once more, under the same correlation id, when its reply is late.
import { systemClock, type Clock } from '../../flow/clock.ts';
import { LaneHealth } from './lane-health.ts';
import {
  HEADER,
  RequestTimeoutError,
  TransportClosedError,
  type Delivery,
  type Envelope,
  type OutgoingMessage,
  type RequestOptions,
  type Subscription,
  type Transport,
} from './transport.ts';

interface Pending {
  resolve(reply: Envelope): void;
  reject(error: Error): void;
  timer: unknown;
  hedgeTimer: unknown;
  readonly topic: string;
  /** The partitions the request and its hedge went to, where the transport has partitions. */
  readonly lane: number | undefined;
  hedgeLane: number | undefined;
  readonly sentAt: number;
}

/** What request/reply needs of its transport; `lanesOf` only where topics have partitions. */
export type PubSub = Pick<Transport, 'publish' | 'subscribe'> & {
  /** The topic's partition count, or null when not known (the key then decides). */
  lanesOf?(topic: string): number | null;
};

export class RequestReply {
  readonly inbox: string;
  private readonly pending = new Map<string, Pending>();
  private readonly lanes: LaneHealth;
  private subscription: Subscription | null = null;
  private nextId = 0;

  /** `clock` times the deadlines and hedges: tests move a fake one instead of sleeping. */
  constructor(
    private readonly pubsub: PubSub,
    private readonly instanceId: string,
    private readonly clock: Clock = systemClock,
  ) {
    this.inbox = `stratus.replies.${instanceId}`;
    this.lanes = new LaneHealth(clock);
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
      this.forget(id, waiting);
      waiting.reject(new TransportClosedError('transport closed before the reply arrived'));
    }
  }

  request(topic: string, message: OutgoingMessage, timeoutMs: number, options: RequestOptions = {}): Promise<Envelope> {
    if (!this.subscription) return Promise.reject(new TransportClosedError('transport is not started'));
    const correlationId = `${this.inbox}:${++this.nextId}`;
    const laneCount = this.pubsub.lanesOf?.(topic) ?? null;
    const lane = laneCount ? this.lanes.pick(topic, laneCount) : undefined;
    const headers = { ...message.headers, [HEADER.correlationId]: correlationId, [HEADER.replyTo]: this.inbox };
    const outgoing: OutgoingMessage = { ...message, headers, ...(lane === undefined ? {} : { lane }) };
    const reply = new Promise<Envelope>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        const waiting = this.pending.get(correlationId);
        if (waiting) {
          this.forget(correlationId, waiting);
          this.stalled(waiting, waiting.lane);
          this.stalled(waiting, waiting.hedgeLane);
        }
        reject(new RequestTimeoutError(`no reply on ${topic} within ${timeoutMs} ms`));
      }, timeoutMs);
      const { hedgeAfterMs } = options;
      const hedgeTimer = hedgeAfterMs !== undefined && hedgeAfterMs < timeoutMs ? this.clock.setTimeout(() => this.hedge(correlationId, outgoing, options), hedgeAfterMs) : null;
      this.pending.set(correlationId, { resolve, reject, timer, hedgeTimer, topic, lane, hedgeLane: undefined, sentAt: this.clock.now() });
    });
    this.pubsub.publish(topic, outgoing).catch((error: Error) => this.fail(correlationId, error));
    return reply;
  }

  async reply(request: Delivery, message: Omit<OutgoingMessage, 'key'>): Promise<void> {
    const replyTo = request.headers[HEADER.replyTo];
    const correlationId = request.headers[HEADER.correlationId];
    if (!replyTo || !correlationId) throw new Error(`message on ${request.topic} was not sent as a request`);
    const lane: Record<string, string> = request.lane === undefined ? {} : { [HEADER.lane]: String(request.lane), [HEADER.member]: this.instanceId };
    const headers = { ...message.headers, [HEADER.correlationId]: correlationId, ...lane };
    await this.pubsub.publish(replyTo, { key: correlationId, value: message.value, headers });
  }

  // The original stays pending: whichever of the two replies comes first settles the request.
  private hedge(correlationId: string, outgoing: OutgoingMessage, options: RequestOptions): void {
    const waiting = this.pending.get(correlationId);
    if (!waiting) return;
    waiting.hedgeTimer = null;
    this.stalled(waiting, waiting.lane);
    if (options.mayHedge && !options.mayHedge()) return;
    const laneCount = this.pubsub.lanesOf?.(waiting.topic) ?? null;
    const { lane: _original, ...copy } = outgoing;
    if (laneCount) waiting.hedgeLane = this.lanes.pickAnswering(waiting.topic, laneCount, waiting.lane);
    const hedge: OutgoingMessage = waiting.hedgeLane === undefined ? copy : { ...copy, lane: waiting.hedgeLane };
    // A hedge that cannot be sent changes nothing: the original is still on its way.
    this.pubsub.publish(waiting.topic, hedge).catch(() => {});
  }

  private stalled(waiting: Pending, lane: number | undefined): void {
    if (lane !== undefined) this.lanes.stalled(waiting.topic, lane, waiting.sentAt);
  }

  private settle(reply: Delivery): void {
    const correlationId = reply.headers[HEADER.correlationId];
    const waiting = correlationId === undefined ? undefined : this.pending.get(correlationId);
    // A late reply (after a timeout), the loser of a hedge, or a second reply to a redelivered request has
    // nobody waiting: drop it.
    if (!waiting || correlationId === undefined) return;
    this.forget(correlationId, waiting);
    const lane = reply.headers[HEADER.lane];
    if (lane !== undefined) this.lanes.answered(waiting.topic, Number(lane), reply.headers[HEADER.member]);
    waiting.resolve(reply);
  }

  private fail(correlationId: string, error: Error): void {
    const waiting = this.pending.get(correlationId);
    if (!waiting) return;
    this.forget(correlationId, waiting);
    waiting.reject(error);
  }

  private forget(correlationId: string, waiting: Pending): void {
    this.pending.delete(correlationId);
    this.clock.clearTimeout(waiting.timer);
    if (waiting.hedgeTimer !== null) this.clock.clearTimeout(waiting.hedgeTimer);
  }
}
