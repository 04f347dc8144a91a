// How the coordinator shows the progress of an epoch its workers train: worker 0 writes its running
// figures into six float64 words of shared memory after every step, and the coordinator samples them
// ten times a second, however fast the steps go.
import type { BatchProgress } from '../events.ts';

/** Indices into the progress words. */
const PROGRESS = { epoch: 0, batch: 1, batches: 2, samples: 3, loss: 4, accuracy: 5, length: 6 } as const;

export function progressWords(): SharedArrayBuffer {
  return new SharedArrayBuffer(PROGRESS.length * 8);
}

/** Worker 0's side, after every step. */
export function writeProgress(words: Float64Array, epoch: number, progress: BatchProgress): void {
  words[PROGRESS.epoch] = epoch;
  words[PROGRESS.batch] = progress.batch;
  words[PROGRESS.batches] = progress.batches;
  words[PROGRESS.samples] = progress.samples;
  words[PROGRESS.loss] = progress.loss;
  words[PROGRESS.accuracy] = progress.accuracy;
}

/** The coordinator's side: `onBatch` hears each new step of `epoch`, 10 times a second at most. Stop it with clearInterval. */
export function watchProgress(buffer: SharedArrayBuffer, workers: number, epoch: number, onBatch: (progress: BatchProgress) => void): ReturnType<typeof setInterval> {
  const words = new Float64Array(buffer);
  let lastBatch = -1;
  return setInterval(() => {
    const batch = words[PROGRESS.batch]!;
    if (words[PROGRESS.epoch] !== epoch || batch === lastBatch) return;
    lastBatch = batch;
    onBatch({
      batch,
      batches: words[PROGRESS.batches]!,
      // Samples of the whole step: every worker trained as many as worker 0.
      samples: words[PROGRESS.samples]! * workers,
      loss: words[PROGRESS.loss]!,
      accuracy: words[PROGRESS.accuracy]!,
    });
  }, 100);
}
