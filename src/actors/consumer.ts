// The consumer: takes prediction requests from the transport, classifies them in dynamic batches, stores
// each result under its request id and replies. A message is acknowledged only once its result is stored,
// so a crash before that means redelivery, never a lost request.
import type { PredictionResult } from '../adapters/store.ts';
import type { Delivery, Subscription } from '../adapters/transport.ts';
import { argmax, CLASSES, PIXELS } from '../model/shape.ts';
import type { Predictor } from '../model/worker-classifier.ts';
import type { Actor, ActorContext } from './actor.ts';
import { Batcher } from './batcher.ts';
import {
  CONSUMER_GROUP,
  TOPIC,
  decodeRequest,
  encodeJson,
  type ModelAnnouncement,
  type PredictionReply,
  type PredictionRequest,
} from './messages.ts';

interface Job {
  readonly request: PredictionRequest;
  readonly delivery: Delivery;
  readonly done: () => void;
  readonly failed: (error: unknown) => void;
}

/** How often a consumer repeats which model it serves, so gateways that start later learn it. */
const ANNOUNCE_EVERY_MS = 5_000;

export class ConsumerActor implements Actor {
  readonly name = 'consumer';
  private readonly id = crypto.randomUUID();
  private classifier: Predictor | null = null;
  private context: ActorContext | null = null;
  private subscription: Subscription | null = null;
  private batcher: Batcher<Job> | null = null;
  private announcer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly loadClassifier: () => Promise<Predictor>) {}

  async start(context: ActorContext): Promise<void> {
    this.context = context;
    // A restart after a crash keeps the loaded model if its worker still runs: reloading costs time.
    if (!this.classifier?.alive) this.classifier = await this.loadClassifier();
    context.logger.info({ actor: this.name, model: this.classifier.version }, 'model loaded');
    const { maxBatch, maxWaitMs } = context.config;
    this.batcher = new Batcher<Job>({ maxBatch, maxWaitMs }, (jobs) => this.runBatch(jobs));
    this.subscription = await context.transport.subscribe(
      TOPIC.predictions,
      // Hold several batches' worth, so one batch fills while the previous one is being stored.
      { group: CONSUMER_GROUP, concurrency: maxBatch * 8 },
      (delivery) => this.accept(delivery),
    );
    await this.announce();
    this.announcer = setInterval(() => void this.announce(), ANNOUNCE_EVERY_MS);
  }

  ready(): boolean {
    return this.classifier !== null && this.subscription !== null;
  }

  /** Releases the model's worker too; stop() alone keeps it for a quick restart. */
  async close(): Promise<void> {
    await this.stop();
    await this.classifier?.close();
    this.classifier = null;
  }

  async stop(): Promise<void> {
    if (this.announcer) clearInterval(this.announcer);
    this.announcer = null;
    const subscription = this.subscription;
    this.subscription = null;
    await subscription?.unsubscribe().catch(() => {});
    await this.batcher?.drain();
    this.batcher = null;
  }

  private accept(delivery: Delivery): Promise<void> {
    // A message that cannot be decoded rejects here; the transport retries it, then dead-letters it.
    const request = decodeRequest(delivery.value);
    const batcher = this.batcher;
    if (!batcher) return Promise.reject(new Error('consumer is stopping'));
    return new Promise<void>((done, failed) => batcher.add({ request, delivery, done, failed }, request.count));
  }

  private async runBatch(jobs: Job[]): Promise<void> {
    const context = this.context;
    const classifier = this.classifier;
    if (!context || !classifier) {
      for (const job of jobs) job.failed(new Error('consumer is not started'));
      return;
    }
    const startedAt = Date.now();
    let probabilities: Float32Array;
    const images = jobs.reduce((n, job) => n + job.request.count, 0);
    try {
      probabilities = await classifier.predict(concatPixels(jobs, images), images);
    } catch (error) {
      for (const job of jobs) job.failed(error);
      context.crash(error);
      return;
    }
    const inferenceSeconds = (Date.now() - startedAt) / 1000;
    context.metrics.batchSize.observe(images);
    context.metrics.predictions.inc(images);
    const createdAt = new Date().toISOString();
    const results: PredictionResult[] = [];
    let offset = 0;
    for (const job of jobs) {
      const { request } = job;
      const digits: number[] = [];
      const rows: number[][] = [];
      for (let i = 0; i < request.count; i++, offset += CLASSES) {
        digits.push(argmax(probabilities, offset, CLASSES));
        rows.push(Array.from(probabilities.subarray(offset, offset + CLASSES)));
      }
      results.push({
        id: request.id,
        digits,
        probabilities: rows,
        modelVersion: classifier.version,
        createdAt,
        ...(request.sessionId ? { sessionId: request.sessionId } : {}),
      });
      context.metrics.observe('queue_wait', Math.max(0, startedAt - request.sentAt) / 1000);
      context.metrics.observe('inference', inferenceSeconds);
    }
    // Reply and store side by side: the caller need not wait for the disk, but the message is
    // acknowledged only after the store has the result, so a failed write means a redelivery.
    const replies = jobs.map((job, i) => {
      const result = results[i] as PredictionResult;
      const reply: PredictionReply = {
        id: result.id,
        digits: result.digits as number[],
        probabilities: result.probabilities.flat(),
        modelVersion: result.modelVersion,
      };
      return context.transport.reply(job.delivery, { value: encodeJson(reply) }).catch((error: unknown) => {
        context.logger.warn({ id: result.id, err: error }, 'reply could not be sent');
      });
    });
    const storeStarted = Date.now();
    try {
      await context.store.saveResults(results);
      context.metrics.observe('store', (Date.now() - storeStarted) / 1000);
      for (const job of jobs) job.done();
    } catch (error) {
      context.logger.error({ err: error, images }, 'results could not be stored; messages will be redelivered');
      for (const job of jobs) job.failed(error);
    }
    await Promise.all(replies);
  }

  private async announce(): Promise<void> {
    const { context, classifier } = this;
    if (!context || !classifier) return;
    const announcement: ModelAnnouncement = { version: classifier.version, consumer: this.id };
    await context.transport
      .publish(TOPIC.modelAnnouncements, { key: this.id, value: encodeJson(announcement) })
      .catch((error: unknown) => context.logger.warn({ err: error }, 'model announcement failed'));
  }
}

function concatPixels(jobs: readonly Job[], images: number): Float32Array {
  if (jobs.length === 1) return (jobs[0] as Job).request.pixels;
  const all = new Float32Array(images * PIXELS);
  let offset = 0;
  for (const job of jobs) {
    all.set(job.request.pixels, offset);
    offset += job.request.pixels.length;
  }
  return all;
}
