// Training on this thread: one model, one optimizer, the whole epoch's order. The plainest strategy, and
// the reference the others are measured against (same split, orders, and worker 0's augmentation).
import type * as tf from '@tensorflow/tfjs';
import { augmentFrom, workerAugmentStream, workerDropoutStream } from './augment-streams.ts';
import type { Augment } from './batches.ts';
import type { DataSplit } from './data-split.ts';
import { fastAdam, setLearningRate } from './fast-adam.ts';
import type { GradientSource } from './gradient-source.ts';
import { gradientSource } from './gradients.ts';
import { buildModelToTrain } from './init-model.ts';
import { LocalScoring } from './local-scoring.ts';
import { optimizerStep } from './optimizer-step.ts';
import type { PackagedModel } from './package-model.ts';
import { augmentOf, type TrainRecipe } from './recipe.ts';
import { trainSteps, type StepSums } from './step-loop.ts';
import type { EpochPlan, Opening, Score, TestScore, TrainingStrategy } from './strategy.ts';
import { initTrainingBackend } from './training-backend.ts';

interface Trainee {
  readonly model: tf.LayersModel;
  readonly optimizer: tf.Optimizer;
  readonly gradients: GradientSource;
  readonly split: DataSplit;
  readonly scoring: LocalScoring;
  readonly augment: Augment | undefined;
}

export class OneThreadStrategy implements TrainingStrategy {
  private trainee: Trainee | null = null;

  constructor(
    private readonly recipe: TrainRecipe,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async open(split: DataSplit): Promise<Opening> {
    const { arch, seed, initModel, learningRate } = this.recipe;
    const backend = this.recipe.backend ?? 'wasm';
    await initTrainingBackend(backend);
    const model = await buildModelToTrain(arch, seed, initModel);
    // fastAdam: tf.train.adam's update with one fused kernel per variable on wasm.
    const optimizer = fastAdam(learningRate);
    const augment = augmentOf(this.recipe) ? augmentFrom(workerAugmentStream(seed, 0)) : undefined;
    const gradients = await gradientSource(backend, model, optimizer, workerDropoutStream(seed, 0));
    this.trainee = { model, optimizer, gradients, split, scoring: new LocalScoring(model, split), augment };
    return { params: model.countParams(), samplesPerEpoch: split.training.indices.length };
  }

  trainEpoch(plan: EpochPlan): Promise<StepSums> {
    const { optimizer, gradients, split, augment } = this.need();
    setLearningRate(optimizer, plan.learningRate);
    return trainSteps(split.training.split, plan.order, this.recipe.batchSize, optimizerStep(optimizer, gradients), { augment: plan.augment ? augment : undefined, onBatch: plan.onBatch, signal: this.signal });
  }

  async validate(): Promise<Score> {
    return this.need().scoring.validate();
  }

  async agree(): Promise<boolean> {
    return true;
  }

  async scoreTest(): Promise<TestScore> {
    return this.need().scoring.scoreTest();
  }

  packageModel(tested: TestScore): Promise<PackagedModel> {
    return this.need().scoring.packageModel(tested);
  }

  reportExtras(): object {
    return {};
  }

  async close(): Promise<void> {
    await this.trainee?.gradients.dispose();
    this.trainee?.optimizer.dispose();
    this.trainee?.model.dispose();
  }

  private need(): Trainee {
    if (!this.trainee) throw new Error('one-thread training: open first');
    return this.trainee;
  }
}
