// The one epoch loop, for every way of training: the learning-rate schedule, the seeded shuffle of every
// epoch, the epoch's figures and its validation, the 'batch' and 'epoch' events. How an epoch is trained
// and scored is the strategy's (strategy.ts).
import type { DataSplit } from './data-split.ts';
import type { TrainLog } from './events.ts';
import { shuffle } from './random.ts';
import { augmentsEpoch, learningRateAt, type TrainRecipe } from './recipe.ts';
import type { EpochRecord } from './report.ts';
import type { Opening, TrainingStrategy } from './strategy.ts';

export interface EpochsTrained {
  readonly history: readonly EpochRecord[];
  /** The epoch this attempt started at (0 unless a distributed job resumed from a checkpoint). */
  readonly firstEpoch: number;
  /** Time inside the epochs' training steps: the run's training time (run-records.ts). */
  readonly trainMs: number;
}

export interface EpochRun {
  readonly recipe: TrainRecipe;
  readonly split: DataSplit;
  readonly opening: Opening;
  readonly signal?: AbortSignal | undefined;
}

export async function runEpochs(strategy: TrainingStrategy, run: EpochRun, log: TrainLog): Promise<EpochsTrained> {
  const { epochs } = run.recipe;
  const { training, random } = run.split;
  const { samplesPerEpoch, resumed } = run.opening;
  const firstEpoch = resumed?.epoch ?? 0;
  const history: EpochRecord[] = [...(resumed?.history ?? [])];
  // Replays the shuffles of the epochs already done, so the resumed epochs see the orders they would have.
  for (let epoch = 0; epoch < firstEpoch; epoch++) shuffle(training.indices, random);
  let trainMs = 0;
  for (let epoch = firstEpoch; epoch < epochs; epoch++) {
    const rate = learningRateAt(run.recipe, epoch);
    shuffle(training.indices, random);
    const epochStarted = performance.now();
    const sums = await strategy.trainEpoch({
      epoch,
      learningRate: rate,
      order: training.indices,
      augment: augmentsEpoch(run.recipe, epoch),
      onBatch: (progress) => log({ kind: 'batch', epoch: epoch + 1, epochs, ...progress }),
    });
    const ms = performance.now() - epochStarted;
    trainMs += ms;
    const validation = await strategy.validate();
    if (validation) {
      const record: EpochRecord = {
        epoch: epoch + 1,
        learningRate: rate,
        loss: sums.lossSum / Math.max(1, sums.steps),
        accuracy: sums.correct / Math.max(1, sums.samples),
        valLoss: validation.loss,
        valAccuracy: validation.accuracy,
        seconds: +(ms / 1000).toFixed(3),
        samplesPerSecond: Math.round(samplesPerEpoch / (ms / 1000)),
      };
      history.push(record);
      log({
        kind: 'epoch',
        epoch: epoch + 1,
        epochs,
        loss: record.loss,
        accuracy: record.accuracy,
        validationLoss: record.valLoss,
        validationAccuracy: record.valAccuracy,
        seconds: ms / 1000,
        samplesPerSecond: record.samplesPerSecond,
      });
      await strategy.afterEpoch?.(epoch + 1, history);
    }
    run.signal?.throwIfAborted();
  }
  return { history, firstEpoch, trainMs };
}
