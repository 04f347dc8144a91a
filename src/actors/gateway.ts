// The gateway actor: admits prediction requests (bounded, so overload is a quick 503 and not a pile-up),
// sends them through the transport, and waits for each reply with a deadline. It never classifies itself.
import { RequestTimeoutError, TransportClosedError, type Subscription } from '../adapters/transport.ts';
import { HttpError } from '../http/errors.ts';
import type { Actor, ActorContext } from './actor.ts';
import {
  TOPIC,
  decodeJson,
  encodeRequest,
  type ModelAnnouncement,
  type PredictionReply,
  type ReplyError,
} from './messages.ts';

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
  /** The model the consumers last said they serve; null until one has spoken. */
  modelVersion: string | null = null;

  async start(context: ActorContext): Promise<void> {
    this.context = context;
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
    const context = this.context;
    if (!context || !this.accepting) {
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
      const value = encodeRequest({ id, count, pixels, sentAt: Date.now(), ...(sessionId ? { sessionId } : {}) });
      const reply = await context.transport.request(TOPIC.predictions, { key: id, value }, context.config.requestTimeoutMs);
      const answer = decodeJson<PredictionReply | ReplyError>(reply.value);
      if ('error' in answer) throw new HttpError(500, answer.error.code, answer.error.message);
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
      throw error;
    } finally {
      this.inFlight--;
      context.metrics.inFlight.dec();
      if (this.inFlight === 0) this.idle?.();
    }
  }
}
