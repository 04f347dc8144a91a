// The data of one training run, split the same way whatever the spread (one thread, workers, ranks):
// a seeded 10 % hold-out for validation, the first --max-samples of the rest for training, feedback
// images mixed in, and the seeded stream that then shuffles every epoch.
import { feedbackSplit, mixFeedback, type LabelledPixels } from './feedback.ts';
import { loadMnist } from './mnist.ts';
import { range, seededRandom, shuffle } from './random.ts';

export type DataSplit = ReturnType<typeof splitTrainingData>;

export function splitTrainingData(options: { readonly mnistDir: string; readonly seed: number; readonly maxSamples: number | null; readonly feedback?: readonly LabelledPixels[]; readonly feedbackRepeat?: number }) {
  const data = loadMnist(options.mnistDir);
  const random = seededRandom(options.seed);
  const all = range(data.train.count);
  shuffle(all, random);
  const validationCount = Math.round(data.train.count * 0.1);
  const validationIndices = all.slice(0, validationCount);
  const available = data.train.count - validationCount;
  const trainIndices = all.slice(validationCount, validationCount + Math.min(options.maxSamples ?? available, available));
  const testIndices = range(data.test.count);
  const feedback = feedbackSplit(options.feedback ?? []);
  // Without feedback, `training` is the MNIST split and trainIndices themselves: the run replays as before.
  const training = mixFeedback(data.train, trainIndices, feedback.split, options.feedbackRepeat);
  return { data, random, validationCount, validationIndices, trainIndices, testIndices, feedback, training };
}
