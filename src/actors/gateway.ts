// The gateway actor: admits prediction requests (bounded, so overload is a quick refusal and not a
// pile-up), sends them through the transport and waits for each reply with a deadline. It never
// classifies itself. Under load, requests that arrive while earlier messages are still being answered
// leave together as one message (src/flow/batcher.ts): each message costs the gateway, the broker and
// the consumer a fixed price (encoding, a record, a delivery, offset tracking, a reply), several times
// what its pixels cost, and one message for 16 requests pays it once. Where consumers run in processes
// of their own, a message whose reply is late is hedged (hedging.ts): a consumer that died or hangs
// costs its requests a few hundred milliseconds, not a 504. A request with an Idempotency-Key is
// answered from the store when it was answered before (idempotency.ts).
import { transportAdapter } from '../adapters/transport/registry.ts';
import { RequestTimeoutError, TransportClosedError, type RequestOptions, type Subscription } from '../adapters/transport/transport.ts';
import { Batcher } from '../flow/batcher.ts';
import { systemClock, within, type Clock } from '../flow/clock.ts';
import { PIXELS } from '../protocol/image.ts';
import { ANNOUNCE_EVERY_MS, decodeJson, encodeBatch, type BatchReply, type ModelAnnouncement, type ModelRefusal, type PredictionReply, type PredictionRequest, type SplitAlternatives } from '../protocol/messages.ts';
import { GROUP, TOPIC } from '../protocol/topics.ts';
import type { Actor, ActorContext } from './actor.ts';
import { NoAnswer, TimedOut, Unavailable } from './errors.ts';
import { HedgePolicy } from './hedging.ts';
import { keyedRequest } from './idempotency.ts';

/** Messages awaiting replies before new requests hold back to join the next one: enough to keep two
 * consumers' model calls fed, few enough that under load each message carries many requests.
 * In role `all` the transport is in-process and the consumer batches messages into model calls again:
 * is the gateway's batching still worth it there? Measured against one message per request
 * (bench/local.ts, 10 s runs, alternating, this 2-core machine): at 64 connections a wash (4,234, 4,150
 * and 4,669 predictions/s against 4,494, 4,341 and 4,602), at 1,000 connections 5,213 against 4,537/s,
 * the main thread spending 57 µs per prediction against 80. It is: the gateway batches on any transport. */
const OUTSTANDING_MESSAGES = 4;
/** A request holds back at most this long, whatever is outstanding: a message stuck on a crashed consumer
 * must not stall the ones after it. */
const MAX_HOLD_MS = 5;
/** The longest wait before a hedge: a tenth of the deadline (1 s at the default 10 s), so a request on a
 * hung consumer is answered through its hedge well inside the deadline, and inside 2 s at the defaults. */
const hedgeCeilingMs = (requestTimeoutMs: number): number => Math.round(requestTimeoutMs / 10);

export interface Classification extends PredictionReply {
  readonly timings: { readonly totalMs: number };
  /** True when this is the stored answer to an earlier request with the same Idempotency-Key. */
  readonly replayed?: boolean;
}

export interface ClassifyOptions {
  readonly sessionId?: string;
  /** The client's Idempotency-Key (already checked by isIdempotencyKey): see idempotency.ts. */
  readonly idempotencyKey?: string;
  /** Store the images with the result, so that feedback can label them later (the page's predictions). */
  readonly keepImages?: boolean;
  /** A drawn number's alternative splits, whose images follow its digits' (digit-images.ts). */
  readonly split?: SplitAlternatives;
}

interface Queued {
  readonly request: PredictionRequest;
  /** performance.now() when it was queued: the deadline counts the wait in the queue. */
  readonly queuedAt: number;
  readonly resolve: (reply: PredictionReply) => void;
  readonly reject: (error: unknown) => void;
}

export class GatewayActor implements Actor {
  readonly name = 'gateway';
  private readonly id = crypto.randomUUID();
  private context: ActorContext | null = null;
  private announcements: Subscription | null = null;
  private accepting = false;
  private inFlight = 0;
  private idle: (() => void) | null = null;
  private messages: Batcher<Queued> | null = null;
  /** Null where consumers cannot fail apart from the gateway (one process): a hedge would only add work. */
  private hedging: HedgePolicy | null = null;
  /** The model the consumers last said they serve; null until one has spoken. */
  modelVersion: string | null = null;
  /** Versions a consumer refused to serve, and why; forgotten once one serves it. */
  private readonly refusals = new Map<string, ModelRefusal>();
  /** When a consumer that cannot read a request's split last spoke (clock time): one of a version
   * before it, during a rolling upgrade. */
  private oldConsumerHeardAt = -Infinity;

  constructor(private readonly clock: Clock = systemClock) {}

  async start(context: ActorContext): Promise<void> {
    this.context = context;
    const { config } = context;
    this.hedging = transportAdapter(config.transport).capabilities.crossProcess
      ? new HedgePolicy({ floorMs: config.hedgeAfterMs, ceilingMs: hedgeCeilingMs(config.requestTimeoutMs), maxPerSecond: config.maxHedgesPerSecond }, this.clock)
      : null;
    // Up to --max-batch images a message: the consumer's model call size, so one message never needs two calls.
    this.messages = new Batcher<Queued>(
      { maxSize: context.config.maxBatch, maxRunning: OUTSTANDING_MESSAGES, maxHoldMs: MAX_HOLD_MS },
      (batch) => this.send(context, batch),
      (queued) => queued.request.count,
      this.clock,
    );
    this.announcements = await context.transport.subscribe(
      TOPIC.modelAnnouncements,
      { group: GROUP.gatewayAnnouncements(this.id), concurrency: 16 },
      async (message) => this.heard(decodeJson<ModelAnnouncement>(message.value)),
    );
    this.accepting = true;
  }

  ready(): boolean {
    return this.accepting && this.modelVersion !== null;
  }

  /** Requests admitted and not answered yet. */
  get held(): number {
    return this.inFlight;
  }

  /** Stops intake, then waits (up to the shutdown timeout) for the requests already admitted. */
  async stop(): Promise<void> {
    this.accepting = false;
    if (this.inFlight > 0 && this.context) {
      const drained = new Promise<void>((resolve) => (this.idle = resolve));
      const timeoutMs = this.context.config.shutdownTimeoutMs;
      await within(drained, timeoutMs, () => undefined);
      if (this.inFlight > 0) this.context.logger.warn({ inFlight: this.inFlight }, 'gave up waiting for in-flight requests');
    }
    await this.announcements?.unsubscribe().catch(() => {});
    this.announcements = null;
  }

  /** Why a consumer refused `version`, or null when none did (or one serves it since). */
  refusalOf(version: string): ModelRefusal | null {
    return this.refusals.get(version) ?? null;
  }

  forgetRefusal(version: string): void {
    this.refusals.delete(version);
  }

  private heard(announcement: ModelAnnouncement): void {
    if (announcement.splits !== true) this.oldConsumerHeardAt = this.clock.now();
    this.modelVersion = announcement.version;
    this.refusals.delete(announcement.version);
    const { refused } = announcement;
    if (refused && refused.version !== announcement.version) this.refusals.set(refused.version, refused);
  }

  /** `pixels` holds `count` images of 784 values in 0..1 (already validated by the caller). */
  async classify(pixels: Float32Array, count: number, options: ClassifyOptions = {}): Promise<Classification> {
    const { context, messages } = this;
    if (!context || !messages || !this.accepting) throw new Unavailable('the service is starting or shutting down');
    const started = performance.now();
    const { sessionId, idempotencyKey, keepImages, split } = options;
    this.inFlight++;
    context.metrics.inFlight.inc();
    try {
      // Version 7: the id carries its time, which tells the store the period to look in (periods.ts).
      let id: string = Bun.randomUUIDv7();
      if (idempotencyKey !== undefined) {
        const keyed = await keyedRequest(context.store, idempotencyKey, pixels, count);
        if (keyed.earlier) {
          context.metrics.idempotentReplays.inc();
          return { ...keyed.earlier, timings: { totalMs: performance.now() - started }, replayed: true };
        }
        id = keyed.id;
      }
      // Alternatives go only where every consumer can read them: silent for three announcements, an old
      // consumer is gone. Without them, the request is the gateway's own split.
      const withSplit = split !== undefined && this.clock.now() - this.oldConsumerHeardAt > 3 * ANNOUNCE_EVERY_MS;
      const request: PredictionRequest = {
        id,
        count: split && !withSplit ? split.primary : count,
        pixels: split && !withSplit ? pixels.subarray(0, split.primary * PIXELS) : pixels,
        sentAt: Date.now(),
        ...(withSplit ? { split } : {}),
        ...(sessionId ? { sessionId } : {}),
        ...(keepImages ? { keepImages } : {}),
      };
      const answer = await new Promise<PredictionReply>((resolve, reject) => messages.add({ request, queuedAt: started, resolve, reject }));
      this.modelVersion = answer.modelVersion;
      const totalMs = performance.now() - started;
      context.metrics.observe('total', totalMs / 1000);
      context.logger.debug({ id: request.id, images: count, totalMs, model: answer.modelVersion }, 'prediction');
      return { ...answer, timings: { totalMs } };
    } finally {
      this.inFlight--;
      context.metrics.inFlight.dec();
      if (this.inFlight === 0) this.idle?.();
    }
  }

  /** One message for the batch, keyed by its first request's id; its deadline counts from when its oldest
   * request was queued. Each request gets its own answer from the reply, or the message's failure. */
  private async send(context: ActorContext, batch: readonly Queued[]): Promise<void> {
    const requests = batch.map((queued) => queued.request);
    const timeoutMs = Math.max(1, context.config.requestTimeoutMs - (performance.now() - (batch[0] as Queued).queuedAt));
    context.metrics.requestsPerMessage.observe(requests.length);
    let replies: PredictionReply[];
    let late = false;
    const hedging = this.hedging;
    const hedgeAfterMs = hedging?.delayMs();
    if (hedgeAfterMs !== undefined) context.metrics.hedgeDelay.set(hedgeAfterMs / 1000);
    // A hedge is safe: the consumer stores each request once, under its id, and the first reply wins.
    const options: RequestOptions | undefined =
      hedging && hedgeAfterMs !== undefined
        ? {
            hedgeAfterMs,
            mayHedge: () => {
              const allowed = hedging.take();
              context.metrics.hedges.inc({ outcome: allowed ? 'sent' : 'over_budget' });
              late = true;
              return allowed;
            },
          }
        : undefined;
    try {
      const sentAt = performance.now();
      const reply = await context.transport.request(TOPIC.predictions, { key: (requests[0] as PredictionRequest).id, value: encodeBatch(requests) }, timeoutMs, options);
      if (!late) hedging?.record(performance.now() - sentAt);
      replies = decodeJson<BatchReply>(reply.value).replies;
    } catch (error) {
      const failure = this.failureOf(context, error);
      for (const queued of batch) queued.reject(failure);
      return;
    }
    const byId = new Map(replies.map((reply) => [reply.id, reply]));
    for (const { request, resolve, reject } of batch) {
      const reply = byId.get(request.id);
      if (reply) resolve(reply);
      else reject(new NoAnswer(`the reply to its message has no answer for request ${request.id}`));
    }
  }

  private failureOf(context: ActorContext, error: unknown): unknown {
    if (error instanceof RequestTimeoutError) return new TimedOut(`no answer within ${context.config.requestTimeoutMs} ms`);
    if (error instanceof TransportClosedError) return new Unavailable('the service is shutting down');
    return error;
  }
}
