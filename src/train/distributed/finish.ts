// Rank 0's end of a distributed run: the test set, the saved model checked to reload to the same
// predictions, and the model directory with metadata.json and report.json (as train() writes them).
import type * as tf from '@tensorflow/tfjs';
import type { DataSplit } from '../data-split.ts';
import { testMetrics, type EpochRecord } from '../report.ts';
import { runRecords } from '../run-records.ts';
import { reloadModel, serializeModel, writeModelDirectory } from '../save-model.ts';
import { scoreSplit } from '../scoring.ts';
import { timeInference } from '../train-loop.ts';
import type { TrainEvent, TrainResult } from '../trainer.ts';
import type { DistributedOptions } from './distributed-trainer.ts';

export interface FinishFacts {
  readonly options: DistributedOptions;
  readonly model: tf.LayersModel;
  readonly augment: boolean;
  readonly split: DataSplit;
  readonly history: readonly EpochRecord[];
  readonly samplesPerEpoch: number;
  readonly wallStarted: number;
  readonly trainMs: number;
  readonly trainingSeconds: number;
  /** Epochs a checkpoint had done before this attempt (0: a fresh start). */
  readonly resumedFrom: number;
}

export async function finishOnRankZero(facts: FinishFacts, log: (event: TrainEvent) => void): Promise<TrainResult> {
  const { options, model, split, history } = facts;
  const { data, testIndices } = split;
  const tested = scoreSplit(model, data.test, testIndices);
  log({ kind: 'tested', testAccuracy: tested.accuracy, trainingSeconds: facts.trainingSeconds });
  const files = await serializeModel(model);
  const reloaded = await reloadModel(files);
  try {
    const again = scoreSplit(reloaded, data.test, testIndices).predicted;
    if (!again.every((digit, i) => digit === tested.predicted[i])) throw new Error('the saved model does not predict what the trained one does');
    const inferenceMs = { batch1: +timeInference(reloaded, 1).toFixed(3), batch64: +timeInference(reloaded, 64).toFixed(3) };
    // Samples/s over the epochs trained in this attempt only (a resumed run trained fewer).
    const trainedEpochs = Math.max(1, options.epochs - facts.resumedFrom);
    const records = runRecords({
      options: { ...options, epochs: trainedEpochs },
      arch: options.arch,
      augment: facts.augment,
      backend: options.backend ?? 'wasm',
      split,
      epochSamples: facts.samplesPerEpoch,
      history,
      validationAccuracy: history.at(-1)?.valAccuracy ?? 0,
      test: testMetrics(data.test.labels, tested.predicted, tested.loss),
      params: model.countParams(),
      weightsBytes: files.weights.byteLength,
      inferenceMs,
      wallStarted: facts.wallStarted,
      trainMs: facts.trainMs,
      trainingSeconds: facts.trainingSeconds,
    });
    const result: TrainResult = { ...records.result, epochs: options.epochs };
    const { worldSize, jobId, sync, syncEvery } = options;
    const hyperParameters = { ...records.report.hyperParameters, epochs: options.epochs };
    const report = { ...records.report, hyperParameters, distributed: { worldSize, jobId, sync, syncEvery: sync === 'weights' ? syncEvery : null, resumedFromEpoch: facts.resumedFrom } };
    options.signal?.throwIfAborted();
    await writeModelDirectory(options.outDir, files, result, report);
    log({ kind: 'saved', outDir: options.outDir, weightsBytes: files.weights.byteLength, inferenceMs });
    return result;
  } finally {
    reloaded.dispose();
  }
}
