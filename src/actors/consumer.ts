// The consumer: takes prediction requests from the transport, classifies them in dynamic batches, stores
// each result under its request id and replies. A message is acknowledged only once its result is stored,
// so a crash before that means redelivery, never a lost request.
// It also follows the model registry: on model.updated (and at start) it loads the chosen version in the
// background, smoke-checks it and swaps it in between batches (model-switcher.ts); a version that fails
// is refused and the one serving stays.
import type { PredictionResult } from '../adapters/store/store.ts';
import type { Delivery, Subscription } from '../adapters/transport/transport.ts';
import { Batcher } from '../flow/batcher.ts';
import { within } from '../flow/clock.ts';
import { ModelRefusedError, loadStoredModel, reloadCounter, type ModelSupply } from '../model/model-loader.ts';
import type { ModelSource } from '../model/model-source.ts';
import { ModelSwitcher } from '../model/model-switcher.ts';
import { chooseSplit } from '../model/split-choice.ts';
import type { Predictor } from '../model/worker-classifier.ts';
import { argmax, CLASSES, imageBytes, PIXELS } from '../protocol/image.ts';
import { ANNOUNCE_EVERY_MS, decodeBatch, decodeJson, encodeJson, type BatchReply, type ModelAnnouncement, type ModelRefusal, type ModelUpdated, type PredictionReply, type PredictionRequest } from '../protocol/messages.ts';
import { GROUP, TOPIC } from '../protocol/topics.ts';
import type { Actor, ActorContext } from './actor.ts';

/** One message: a gateway's batch of requests, acknowledged and answered as one. */
interface Job {
  readonly requests: readonly PredictionRequest[];
  /** All of the message's images, in its requests' order. */
  readonly pixels: Float32Array;
  /** By request id, the images of the requests that keep them (imageBytes): taken on arrival, as the
   * pixels themselves are handed over to the model's thread. */
  readonly kept: ReadonlyMap<string, Uint8Array>;
  readonly delivery: Delivery;
  readonly done: () => void;
  readonly failed: (error: unknown) => void;
}

/** Model calls at once: the model has one thread, so more calls would only queue there. Two keep it busy
 * while the main thread takes one call's answer and sends the next (on a loaded machine that thread may
 * wait for a core); what arrives beyond them joins the next call instead: one call on 24 images costs
 * less CPU than three on 8 (bench/inference.ts), and the last of the 24 is answered no later. */
const MODEL_CALLS_AT_ONCE = 2;

export class ConsumerActor implements Actor {
  readonly name = 'consumer';
  private readonly id = crypto.randomUUID();
  private readonly switcher = new ModelSwitcher();
  private context: ActorContext | null = null;
  private subscription: Subscription | null = null;
  private updates: Subscription | null = null;
  private batcher: Batcher<Job> | null = null;
  /** Batches past inference whose results are being stored and replied to. */
  private readonly finishing = new Set<Promise<void>>();
  private announcer: ReturnType<typeof setInterval> | null = null;
  private firstStart = true;
  private closed = false;
  /** True once start() has run to its end. Ready only then: main hears SIGTERM (and drains on it) only
   * after every actor has started, and a consumer reported ready earlier could be killed by the signal. */
  private started = false;
  /** The files of the serving model when it came from the store: a restart after a crash reuses them. */
  private storeSource: ModelSource | null = null;
  /** The version the registry last asked for; reloads run one at a time and converge on it. */
  private wanted: string | null = null;
  private reloading: Promise<void> = Promise.resolve();
  /** The store's serving version when it was refused at start: catch-up does not try it again. */
  private refusedAtStart: string | null = null;
  /** The last version refused, announced with what serves, so that the registry can tell why. */
  private lastRefusal: ModelRefusal | null = null;

  /**
   * `loadClassifier` gives the model the process was started with (--model or the embedded one);
   * `models`, when given, lets the consumer follow the registry (without it, that model serves for good).
   */
  constructor(
    private readonly loadClassifier: () => Promise<Predictor>,
    private readonly models: ModelSupply | null = null,
  ) {}

  private get classifier(): Predictor | null {
    return this.switcher.current;
  }

  async start(context: ActorContext): Promise<void> {
    this.context = context;
    // A restart after a crash keeps the loaded model if its worker still runs: reloading costs time.
    if (!this.classifier?.alive) this.switcher.set(await this.startingClassifier(context));
    this.firstStart = false;
    const classifier = this.classifier as Predictor;
    context.logger.info({ actor: this.name, model: classifier.version, engine: classifier.engine }, 'model loaded');
    const { maxBatch, maxWaitMs } = context.config;
    this.batcher = new Batcher<Job>(
      { maxSize: maxBatch, maxRunning: MODEL_CALLS_AT_ONCE, lingerMs: maxWaitMs },
      (jobs) => this.runBatch(jobs),
      (job) => job.pixels.length / PIXELS,
    );
    this.subscription = await context.transport.subscribe(
      TOPIC.predictions,
      // Hold several batches' worth, so one batch fills while the previous one is being stored.
      { group: GROUP.consumers, concurrency: maxBatch * 8 },
      (delivery) => this.accept(delivery),
    );
    if (this.models) {
      // A group of its own: every consumer instance must hear every update.
      this.updates = await context.transport.subscribe(
        TOPIC.modelUpdated,
        { group: GROUP.consumerModelUpdates(this.id), concurrency: 4 },
        async (message) => {
          // Acknowledged at once: the load runs in the background while batches keep flowing.
          void this.reload(decodeJson<ModelUpdated>(message.value).version);
        },
      );
    }
    await this.announce();
    this.announcer = setInterval(() => void this.announce(), ANNOUNCE_EVERY_MS);
    this.started = true;
    // Catch-up: a version chosen while this consumer was starting came before its subscription.
    // Not with --model: that one serves until the registry says otherwise after the start.
    if (this.models && !this.models.pinned) void this.catchUp(context);
  }

  ready(): boolean {
    return this.started && this.classifier !== null && this.subscription !== null;
  }

  /** Releases the model's worker too; stop() alone keeps it for a quick restart. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
    // A load in progress closes what it started once it sees `closed`; shutdown need not wait for a slow one.
    await within(this.reloading, this.context?.config.shutdownTimeoutMs ?? 0, () => undefined);
    await this.switcher.close();
  }

  /** Loads `version` from the store and swaps it in; resolves when this and earlier reloads are done. */
  reload(version: string): Promise<void> {
    this.wanted = version;
    this.reloading = this.reloading.then(() => this.reloadToWanted());
    return this.reloading;
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.announcer) clearInterval(this.announcer);
    this.announcer = null;
    const subscription = this.subscription;
    this.subscription = null;
    await subscription?.unsubscribe().catch(() => {});
    const updates = this.updates;
    this.updates = null;
    await updates?.unsubscribe().catch(() => {});
    await this.batcher?.drain();
    this.batcher = null;
    while (this.finishing.size > 0) await Promise.allSettled([...this.finishing]);
  }

  private accept(delivery: Delivery): Promise<void> {
    // A message that cannot be decoded rejects here; the transport retries it, then dead-letters it.
    const { requests, pixels } = decodeBatch(delivery.value);
    const batcher = this.batcher;
    if (!batcher) return Promise.reject(new Error('consumer is stopping'));
    const kept = new Map(requests.flatMap((request) => (request.keepImages ? [[request.id, imageBytes(request.pixels)] as const] : [])));
    return new Promise<void>((done, failed) => batcher.add({ requests, pixels, kept, delivery, done, failed }));
  }

  /** Classifies the batch; resolves once the model is free again, while storing and replying go on. */
  private async runBatch(jobs: Job[]): Promise<void> {
    const context = this.context;
    // The batch keeps the classifier it starts with, even if a swap happens meanwhile.
    const lease = this.switcher.acquire();
    if (!context || !lease) {
      lease?.release();
      for (const job of jobs) job.failed(new Error('consumer is not started'));
      return;
    }
    const classifier = lease.predictor;
    const startedAt = Date.now();
    let probabilities: Float32Array;
    const images = jobs.reduce((n, job) => n + job.pixels.length / PIXELS, 0);
    try {
      probabilities = await classifier.predict(concatPixels(jobs, images), images);
    } catch (error) {
      for (const job of jobs) job.failed(error);
      context.crash(error);
      return;
    } finally {
      lease.release();
    }
    const inferenceSeconds = (Date.now() - startedAt) / 1000;
    context.metrics.batchSize.observe(images);
    context.metrics.predictions.inc(images);
    const finishing = this.finish(context, jobs, probabilities, classifier.version, startedAt, inferenceSeconds).finally(() =>
      this.finishing.delete(finishing),
    );
    this.finishing.add(finishing);
  }

  /** Stores the batch's results and replies; each message is acknowledged only once both are done. */
  private async finish(
    context: ActorContext,
    jobs: readonly Job[],
    probabilities: Float32Array,
    modelVersion: string,
    startedAt: number,
    inferenceSeconds: number,
  ): Promise<void> {
    const createdAt = new Date().toISOString();
    const results: PredictionResult[] = [];
    const replies: PredictionReply[][] = [];
    let offset = 0;
    for (const job of jobs) {
      const jobReplies: PredictionReply[] = [];
      for (const request of job.requests) {
        const own = probabilities.subarray(offset, offset + request.count * CLASSES);
        offset += own.length;
        const { split } = request;
        const choice = split ? chooseSplit(own, split.primary, split.alternatives) : null;
        const images = choice?.images ?? Array.from({ length: request.count }, (_, i) => i);
        const digits = images.map((image) => argmax(own, image * CLASSES, CLASSES));
        const rows = images.map((image) => Array.from(own.subarray(image * CLASSES, (image + 1) * CLASSES)));
        const kept = job.kept.get(request.id);
        if (choice) context.metrics.splitChoices.inc({ outcome: choice.taken.length > 0 ? 'alternative' : 'primary' });
        results.push({
          id: request.id,
          digits,
          probabilities: rows,
          modelVersion,
          createdAt,
          ...(request.sessionId ? { sessionId: request.sessionId } : {}),
          ...(kept ? { images: keptImages(kept, images) } : {}),
          ...(split && choice ? { split: { alternatives: split.alternatives.length, taken: choice.taken } } : {}),
        });
        jobReplies.push({ id: request.id, digits, probabilities: rows.flat(), modelVersion });
        context.metrics.observe('queue_wait', Math.max(0, startedAt - request.sentAt) / 1000);
        context.metrics.observe('inference', inferenceSeconds);
      }
      replies.push(jobReplies);
    }
    // Reply and store side by side: the caller need not wait for the disk. A message is acknowledged only
    // once its results are stored AND its reply was handed to the transport: a failure of either means a
    // redelivery, which answers again from a fresh run (the store keeps the first result).
    const sent = jobs.map((job, i) => {
      const answers = replies[i] as PredictionReply[];
      const reply: BatchReply = { replies: answers };
      return context.transport.reply(job.delivery, { value: encodeJson(reply) }).then(
        () => null,
        (error: unknown) => {
          context.logger.warn({ ids: answers.map((answer) => answer.id), err: error }, 'reply could not be sent; the request will be redelivered');
          return error;
        },
      );
    });
    const storeStarted = Date.now();
    let storeError: unknown = null;
    try {
      await context.store.saveResults(results);
      // Once per result, as queue_wait and inference are per request: each prediction of the batch spent
      // this long being stored, and counts alike whether it travelled alone or with others.
      const storeSeconds = (Date.now() - storeStarted) / 1000;
      for (let i = 0; i < results.length; i++) context.metrics.observe('store', storeSeconds);
    } catch (error) {
      context.logger.error({ err: error, results: results.length }, 'results could not be stored; messages will be redelivered');
      storeError = error;
    }
    const replyErrors = await Promise.all(sent);
    jobs.forEach((job, i) => {
      const failure = storeError ?? replyErrors[i];
      if (failure) job.failed(failure);
      else job.done();
    });
  }

  private async announce(): Promise<void> {
    const { context, classifier } = this;
    if (!context || !classifier) return;
    const announcement: ModelAnnouncement = { version: classifier.version, consumer: this.id, splits: true, ...(this.lastRefusal ? { refused: this.lastRefusal } : {}) };
    await context.transport
      .publish(TOPIC.modelAnnouncements, { key: this.id, value: encodeJson(announcement) })
      .catch((error: unknown) => context.logger.warn({ err: error }, 'model announcement failed'));
  }

  /**
   * The serving choice: after a crash, the model that was serving; at first start, the store's serving
   * version unless --model was given (a version that cannot serve falls back); otherwise the start model.
   */
  private async startingClassifier(context: ActorContext): Promise<Predictor> {
    const { models } = this;
    if (models && this.storeSource) {
      try {
        return await models.start(this.storeSource);
      } catch (error) {
        context.logger.error({ err: error, model: this.storeSource.version }, 'could not restart the serving model; using the start model');
      }
    }
    if (models && !models.pinned && this.firstStart) {
      const version = await context.store.getServingVersion().catch((error: unknown) => {
        context.logger.warn({ err: error }, 'could not read the serving version from the store');
        return null;
      });
      if (version) {
        try {
          const ready = await loadStoredModel(context.store, models, version);
          reloadCounter(context.metrics).inc({ outcome: 'loaded' });
          this.storeSource = ready.source;
          // The start model was preloaded in case the store had none; its thread is not needed.
          void this.loadClassifier().then((unused) => unused.close(), () => {});
          return ready.predictor;
        } catch (error) {
          this.refusedAtStart = version;
          this.countRefusal(context, version, error);
        }
      }
    }
    return this.loadClassifier();
  }

  private async catchUp(context: ActorContext): Promise<void> {
    try {
      const version = await context.store.getServingVersion();
      const stale = version && version !== this.classifier?.version && version !== this.refusedAtStart;
      if (stale && this.wanted === null) await this.reload(version);
    } catch (error) {
      context.logger.warn({ err: error }, 'could not read the serving version from the store');
    }
  }

  private async reloadToWanted(): Promise<void> {
    const { context, models, wanted: version } = this;
    if (!context || !models || !version || this.closed || version === this.classifier?.version) return;
    context.logger.info({ model: version, serving: this.classifier?.version }, 'loading model version');
    let ready;
    try {
      ready = await loadStoredModel(context.store, models, version);
    } catch (error) {
      this.countRefusal(context, version, error);
      return;
    }
    if (this.closed) {
      await ready.predictor.close();
      return;
    }
    const previous = this.classifier?.version;
    const retired = this.switcher.swap(ready.predictor);
    if (this.lastRefusal?.version === version) this.lastRefusal = null;
    this.storeSource = ready.source;
    reloadCounter(context.metrics).inc({ outcome: 'loaded' });
    context.logger.info({ model: version, engine: ready.predictor.engine, previous, smokeAccuracy: ready.smokeAccuracy }, 'model switched');
    await this.announce();
    await retired;
  }

  private countRefusal(context: ActorContext, version: string, error: unknown): void {
    const outcome = error instanceof ModelRefusedError ? error.outcome : 'load_failed';
    reloadCounter(context.metrics).inc({ outcome });
    this.lastRefusal = { version, outcome, reason: error instanceof Error ? error.message : String(error) };
    // Said at once (not at the next periodic announcement): a publish is waiting to hear how it went.
    void this.announce();
    context.logger.error({ err: error, model: version, outcome, serving: this.classifier?.version ?? null }, 'model version refused');
  }
}

/** The images read as the answer's digits, as the store keeps them (imagesToText). */
function keptImages(bytes: Uint8Array, images: readonly number[]): string {
  if (images.length * PIXELS === bytes.length) return Buffer.from(bytes).toString('base64');
  const chosen = new Uint8Array(images.length * PIXELS);
  images.forEach((image, i) => chosen.set(bytes.subarray(image * PIXELS, (image + 1) * PIXELS), i * PIXELS));
  return Buffer.from(chosen).toString('base64');
}

function concatPixels(jobs: readonly Job[], images: number): Float32Array {
  if (jobs.length === 1) return (jobs[0] as Job).pixels;
  const all = new Float32Array(images * PIXELS);
  let offset = 0;
  for (const { pixels } of jobs) {
    all.set(pixels, offset);
    offset += pixels.length;
  }
  return all;
}
