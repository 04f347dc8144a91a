// The one end of a training run, for every way of training: the test set scored, the model packaged
// (serialized, reloaded, checked, timed), metadata.json and report.json made, the model directory
// written, and the 'tested' and 'saved' events. Where the model lives and how it is scored is the
// strategy's (strategy.ts).
import type { DataSplit } from './data-split.ts';
import type { EpochsTrained } from './epoch-loop.ts';
import type { TrainLog } from './events.ts';
import type { TrainRecipe } from './recipe.ts';
import { testMetrics } from './report.ts';
import { runRecords, trainingSeconds, type TrainResult } from './run-records.ts';
import { writeModelDirectory } from './save-model.ts';
import type { Opening, TrainingStrategy } from './strategy.ts';

export interface FinishedRun {
  readonly recipe: TrainRecipe;
  readonly split: DataSplit;
  readonly opening: Opening;
  readonly trained: EpochsTrained;
  /** performance.now() when the run began. */
  readonly wallStarted: number;
  readonly signal?: AbortSignal | undefined;
}

export async function finishRun(strategy: TrainingStrategy, run: FinishedRun, log: TrainLog): Promise<TrainResult> {
  const { recipe, split, trained } = run;
  const tested = await strategy.scoreTest();
  const test = testMetrics(split.data.test.labels, tested.predicted, tested.loss);
  log({ kind: 'tested', testAccuracy: test.testAccuracy, trainingSeconds: trainingSeconds(trained.trainMs) });
  const { files, inferenceMs } = await strategy.packageModel(tested);
  const { result, report } = runRecords({
    recipe,
    split,
    epochSamples: run.opening.samplesPerEpoch,
    // Samples/s over the epochs this attempt trained (a resumed job trained fewer).
    trainedEpochs: Math.max(1, recipe.epochs - trained.firstEpoch),
    history: trained.history,
    validationAccuracy: trained.history.at(-1)?.valAccuracy ?? (await strategy.validate())?.accuracy ?? 0,
    test,
    params: run.opening.params,
    weightsBytes: files.weights.byteLength,
    inferenceMs,
    wallStarted: run.wallStarted,
    trainMs: trained.trainMs,
  });
  run.signal?.throwIfAborted();
  const { onnxSkipped } = await writeModelDirectory(recipe.outDir, files, result, { ...report, ...strategy.reportExtras() });
  log({ kind: 'saved', outDir: recipe.outDir, weightsBytes: files.weights.byteLength, inferenceMs, ...(onnxSkipped ? { onnxSkipped } : {}) });
  return result;
}
