// The trainer role's one actor: trains a model from the MNIST files once, writes it where --out says,
// and settles `finished`, which tells main the job is done (exit 0) or failed (exit non-zero).
// A failed run is not a crash for the supervisor to retry: the same files and flags would fail again,
// and a Kubernetes Job has its own retry policy.
import type { TrainEvent, TrainOptions } from '../train/trainer.ts';
import type { Actor, ActorContext } from './actor.ts';

const EVENT_MESSAGES: Record<TrainEvent['kind'], string> = {
  start: 'training started',
  epoch: 'epoch finished',
  tested: 'test set scored',
  saved: 'model written',
};

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
    const { config, logger } = context;
    // Imported here, not at the top: other roles keep tfjs out of their main thread.
    const { train, TRAIN_DEFAULTS } = await import('../train/trainer.ts');
    const { initWasmBackend } = await import('../model/wasm-backend.ts');
    await initWasmBackend();
    const options: TrainOptions = {
      mnistDir: config.mnistDir,
      arch: config.arch,
      epochs: config.epochs,
      batchSize: config.batchSize,
      maxSamples: config.maxSamples === 0 ? null : config.maxSamples,
      seed: config.seed,
      learningRate: TRAIN_DEFAULTS.learningRate,
      lrDecay: TRAIN_DEFAULTS.lrDecay,
      outDir: config.out,
      signal: this.abort.signal,
    };
    const result = await train(options, (event) => {
      const { kind, ...fields } = event;
      logger.info(fields, EVENT_MESSAGES[kind]);
    });
    logger.info({ out: config.out, version: result.version, testAccuracy: result.testAccuracy }, 'training finished');
  }
}

