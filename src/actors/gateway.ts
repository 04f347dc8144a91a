// The gateway actor: admits prediction requests (bounded, so overload is a quick 503 and not a pile-up),
// sends them through the transport (batched under load, request-coalescer.ts), and waits for each reply
// with a deadline. It never classifies itself.
import { RequestTimeoutError, TransportClosedError, type Subscription } from '../adapters/transport/transport.ts';
import { HttpError } from '../http/errors.ts';
import type { Actor, ActorContext } from './actor.ts';
import {
  TOPIC,
  decodeJson,
  encodeBatch,
  type BatchReply,
  type ModelAnnouncement,
  type PredictionReply,
  type PredictionRequest,
  type ReplyError,
} from '../protocol/messages.ts';
import { MissingReplyError, RequestCoalescer } from './request-coalescer.ts';

/** Batches awaiting replies before new requests wait to join one: enough to keep two consumers' model
 * calls fed, few enough that under load each batch carries many requests. */
const OUTSTANDING_BATCHES = 4;
/** A request waits at most this long for company, whatever is outstanding. */
const MAX_HOLD_MS = 5;

export interface Classification extends PredictionReply {
  readonly timings: { readonly totalMs: number };
}

export class GatewayActor implements Actor {
  readonly name = 'gateway';
  private readonly id = crypto.randomUUID();
  private context: ActorContext | null = null;
  private announcements: Subscription | null = null;
  private accepting = false;
  private inFlight = 0;
  private idle: (() => void) | null = null;
  private coalescer: RequestCoalescer | null = null;
  /** The model the consumers last said they serve; null until one has spoken. */
  modelVersion: string | null = null;

  async start(context: ActorContext): Promise<void> {
    this.context = context;
    this.coalescer = new RequestCoalescer((requests, oldestQueuedAt) => this.sendBatch(context, requests, oldestQueuedAt), {
      maxImages: context.config.maxBatch,
      maxOutstanding: OUTSTANDING_BATCHES,
      maxHoldMs: MAX_HOLD_MS,
    });
    // Each gateway is its own group: every instance must hear every announcement.
    this.announcements = await context.transport.subscribe(
      TOPIC.modelAnnouncements,
      { group: `stratus-gateway-${this.id}`, concurrency: 16 },
      async (message) => {
        this.modelVersion = decodeJson<ModelAnnouncement>(message.value).version;
      },
    );
    this.accepting = true;
  }

  ready(): boolean {
    return this.accepting && this.modelVersion !== null;
  }

  /** Stops intake, then waits (up to the shutdown timeout) for the requests already admitted. */
  async stop(): Promise<void> {
    this.accepting = false;
    if (this.inFlight > 0 && this.context) {
      const drained = new Promise<void>((resolve) => (this.idle = resolve));
      const timeoutMs = this.context.config.shutdownTimeoutMs;
      await Promise.race([drained, Bun.sleep(timeoutMs)]);
      if (this.inFlight > 0) this.context.logger.warn({ inFlight: this.inFlight }, 'gave up waiting for in-flight requests');
    }
    await this.announcements?.unsubscribe().catch(() => {});
    this.announcements = null;
  }

  /** `pixels` holds `count` images of 784 values in 0..1 (already validated by the HTTP layer). */
  async classify(pixels: Float32Array, count: number, sessionId?: string): Promise<Classification> {
    const { context, coalescer } = this;
    if (!context || !coalescer || !this.accepting) {
      throw new HttpError(503, 'unavailable', 'the service is starting or shutting down', { 'retry-after': '1' });
    }
    if (this.inFlight >= context.config.maxInFlight) {
      throw new HttpError(503, 'overloaded', 'too many requests in flight; retry shortly', { 'retry-after': '1' });
    }
    const started = performance.now();
    const id = crypto.randomUUID();
    this.inFlight++;
    context.metrics.inFlight.inc();
    try {
      const answer = await coalescer.submit({ id, count, pixels, sentAt: Date.now(), ...(sessionId ? { sessionId } : {}) });
      this.modelVersion = answer.modelVersion;
      const totalMs = performance.now() - started;
      context.metrics.observe('total', totalMs / 1000);
      context.logger.debug({ id, images: count, totalMs, model: answer.modelVersion }, 'prediction');
      return { ...answer, timings: { totalMs } };
    } catch (error) {
      if (error instanceof RequestTimeoutError) {
        throw new HttpError(504, 'timeout', `no answer within ${context.config.requestTimeoutMs} ms`);
      }
      if (error instanceof TransportClosedError) {
        throw new HttpError(503, 'unavailable', 'the service is shutting down', { 'retry-after': '1' });
      }
      if (error instanceof MissingReplyError) throw new HttpError(500, 'no_answer', error.message);
      throw error;
    } finally {
      this.inFlight--;
      context.metrics.inFlight.dec();
      if (this.inFlight === 0) this.idle?.();
    }
  }

  /** One message for the whole batch, keyed by its first request's id; the deadline counts from when its
   * oldest request was queued. */
  private async sendBatch(context: ActorContext, requests: PredictionRequest[], oldestQueuedAt: number): Promise<PredictionReply[]> {
    const timeoutMs = Math.max(1, context.config.requestTimeoutMs - (performance.now() - oldestQueuedAt));
    const key = (requests[0] as PredictionRequest).id;
    context.metrics.requestsPerMessage.observe(requests.length);
    const reply = await context.transport.request(TOPIC.predictions, { key, value: encodeBatch(requests) }, timeoutMs);
    const answer = decodeJson<BatchReply | ReplyError>(reply.value);
    if ('error' in answer) throw new HttpError(500, answer.error.code, answer.error.message);
    return answer.replies;
  }
}
