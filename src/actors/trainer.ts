// The trainer role's one actor: trains a model from the MNIST files once, writes it where --out says,
// publishes it to the model registry if asked (--publish, --publish-url), and settles `finished`, which
// tells main the job is done (exit 0) or failed (exit non-zero).
// A failed run is not a crash for the supervisor to retry: the same files and flags would fail again,
// and a Kubernetes Job has its own retry policy.
import type { FeedbackSample } from '../adapters/store/store.ts';
import type { Config } from '../config.ts';
import type { Spread, TrainRecipe } from '../train/recipe.ts';
import type { Actor, ActorContext } from './actor.ts';

export class TrainerActor implements Actor {
  readonly name = 'trainer';
  /** Resolves once the model is written; rejects if training fails or is stopped first. */
  readonly finished: Promise<void>;
  private readonly settle: { resolve: () => void; reject: (error: unknown) => void };
  private readonly abort = new AbortController();
  private run: Promise<void> | null = null;

  constructor() {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.finished = promise;
    this.settle = { resolve, reject };
    // Whoever awaits `finished` handles the failure; nobody awaiting it must not make it a stray rejection.
    promise.catch(() => {});
  }

  async start(context: ActorContext): Promise<void> {
    // One run per process: a restart would train again from scratch for nothing.
    this.run ??= this.train(context).then(this.settle.resolve, this.settle.reject);
  }

  ready(): boolean {
    return this.run !== null && !this.abort.signal.aborted;
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('training stopped before it finished'));
    await this.run;
  }

  private async train(context: ActorContext): Promise<void> {
    const { config, logger, transport, store } = context;
    // Imported here, not at the top: other roles keep tfjs out of their main thread.
    const { runTraining } = await import('../train/run.ts');
    const { TRAIN_DEFAULTS } = await import('../train/recipe.ts');
    const { trainingProgress } = await import('../train/progress.ts');
    const { chooseTrainingBackend, initTrainingBackend } = await import('../train/training-backend.ts');
    const { backend, fallbackReason } = await chooseTrainingBackend(config.backend);
    if (fallbackReason) logger.warn({ reason: fallbackReason }, 'training on tfjs wasm: ONNX Runtime does not load here');
    await initTrainingBackend(backend);
    if (config.download) {
      const { downloadMnist } = await import('../train/mnist-download.ts');
      await downloadMnist(config.mnistDir, config.mnistUrl, (file, bytes) => logger.info({ file, bytes }, 'MNIST file downloaded'));
    }
    const feedback = config.includeFeedback ? await this.readFeedback(context) : [];
    const recipe: TrainRecipe = {
      mnistDir: config.mnistDir,
      arch: config.arch,
      backend,
      epochs: config.epochs,
      batchSize: config.batchSize,
      maxSamples: config.maxSamples === 0 ? null : config.maxSamples,
      seed: config.seed,
      learningRate: config.learningRate ?? TRAIN_DEFAULTS.learningRate,
      lrDecay: TRAIN_DEFAULTS.lrDecay,
      schedule: config.lrSchedule,
      cleanEpochs: config.cleanEpochs,
      outDir: config.out,
      ...(config.teachers.length > 0 ? { teachers: config.teachers } : {}),
      ...(config.augment === null ? {} : { augment: config.augment }),
      ...(config.includeFeedback ? { feedback } : {}),
      ...(config.initModel === null ? {} : { initModel: config.initModel }),
      spread: spreadOf(config),
    };
    // A progress bar for a person at a terminal; log lines for anything that collects stdout.
    const progress = trainingProgress(logger, { terminal: process.stdout.isTTY ? process.stdout : null });
    // Only rank 0 of a distributed run ends with a model.
    const result = await runTraining(recipe, { transport, store, logger, signal: this.abort.signal }, progress);
    if (!result) return;
    logger.info({ out: config.out, version: result.version, testAccuracy: result.testAccuracy }, 'training finished');
    if (config.publish || config.publishUrl) await this.publish(context);
  }

  /** --include-feedback: the labelled samples in the store (the page's "right / it was a …" answers) that an
   * admin accepted, a fair share per session (train/feedback.ts, trainingFeedback). */
  private async readFeedback(context: ActorContext): Promise<FeedbackSample[]> {
    const { trainingFeedback } = await import('../train/feedback.ts');
    const samples = await trainingFeedback(context.store);
    context.logger.info({ samples: samples.length, store: context.store.name }, 'feedback samples read for training');
    return samples;
  }

  private async publish(context: ActorContext): Promise<void> {
    const { config, logger } = context;
    const { modelDirectory, readTrainedModel, publishOverHttp, publishToRegistry } = await import('../model/publish.ts');
    const model = await readTrainedModel(modelDirectory(config.out));
    if (config.publish) {
      const [{ ModelRegistry }, { trialUnder }] = await Promise.all([import('../model/model-registry.ts'), import('../model/model-trial.ts')]);
      const outcome = await publishToRegistry(new ModelRegistry(context.store, context.transport, trialUnder(config.trialMemoryMb)), model);
      if (outcome === 'exists') throw new Error(`model version ${model.meta.version} is already in the store`);
      logger.info({ version: model.meta.version, store: context.store.name }, 'model published to the store and served');
    }
    if (config.publishUrl) {
      const state = await publishOverHttp(config.publishUrl, config.adminToken, model);
      logger.info({ version: model.meta.version, state, gateway: new URL(config.publishUrl).origin }, 'model published through the gateway');
    }
  }
}

/** --world-size > 1: one rank of a run across processes; --workers > 1: worker threads; else this thread. */
function spreadOf(config: Config): Spread {
  const { sync, syncEvery } = config;
  if (config.worldSize > 1) {
    const { rank, worldSize, peerTimeoutMs } = config;
    return { kind: 'ranks', rank, worldSize, sync, syncEvery, peerTimeoutMs, keepCheckpoints: config.keepCheckpoints, ...(config.jobId === null ? {} : { jobId: config.jobId }) };
  }
  if (config.workers > 1) return { kind: 'worker-threads', workers: config.workers, sync, syncEvery };
  return { kind: 'one-thread' };
}
