// How a process that holds the trained model itself scores it: one thread, and each rank. (Worker
// threads score inside the workers: parallel/worker-trainer.ts.)
import type * as tf from '@tensorflow/tfjs';
import type { DataSplit } from './data-split.ts';
import { packageModel, type PackagedModel } from './package-model.ts';
import { scoreSplit } from './scoring.ts';
import type { Score, TestScore } from './strategy.ts';

export class LocalScoring {
  constructor(
    private readonly model: tf.LayersModel,
    private readonly split: DataSplit,
  ) {}

  validate(): Score {
    return scoreSplit(this.model, this.split.data.train, this.split.validationIndices);
  }

  scoreTest(): TestScore {
    return scoreSplit(this.model, this.split.data.test, this.split.testIndices);
  }

  packageModel(tested: TestScore): Promise<PackagedModel> {
    return packageModel(this.model, this.split.data.test, this.split.testIndices, tested.predicted);
  }
}
