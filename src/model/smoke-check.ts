// The check a new model version must pass before it serves: run it on a few real MNIST test digits
// carried in the binary (smoke-digits.ts) and look at what comes back. It catches weights that load but
// are wrong (a bad export, the wrong file, a run that diverged), which a shape check alone would not.
import { gunzipSync } from 'node:zlib';
import { argmax, CLASSES, PIXELS } from '../protocol/image.ts';
import { SMOKE_DIGIT_COUNT, SMOKE_IMAGES_GZIP_BASE64, SMOKE_LABELS } from './smoke-digits.ts';
import type { EngineModel } from './engines.ts';
import type { Predictor } from './worker-classifier.ts';

/** Below this share of correct answers on the smoke digits a version is refused. */
export const SMOKE_MIN_ACCURACY = 0.9;
/** How far a row of probabilities may sum from 1 (float32 softmax rounding). */
const SUM_TOLERANCE = 1e-3;

export class SmokeCheckError extends Error {
  override readonly name = 'SmokeCheckError';
}

export interface SmokeReport {
  readonly digits: number;
  readonly accuracy: number;
}

let images: Float32Array | undefined;

/** The smoke digits as the model takes them: count × 784 values in 0..1. Decoded once per process. */
export function smokeImages(): Float32Array {
  if (!images) {
    const bytes = gunzipSync(new Uint8Array(Buffer.from(SMOKE_IMAGES_GZIP_BASE64, 'base64')));
    if (bytes.length !== SMOKE_DIGIT_COUNT * PIXELS) throw new Error(`smoke digits hold ${bytes.length} bytes, expected ${SMOKE_DIGIT_COUNT * PIXELS}`);
    images = Float32Array.from(bytes, (v) => v / 255);
  }
  return images;
}

/** Resolves with the score, or rejects with a SmokeCheckError saying what is wrong with the output. */
export async function smokeCheck(predictor: Predictor): Promise<SmokeReport> {
  const correct = await smokeAnswers(predictor);
  const accuracy = correct / SMOKE_DIGIT_COUNT;
  if (accuracy < SMOKE_MIN_ACCURACY) {
    throw new SmokeCheckError(`model ${predictor.version} reads ${correct} of ${SMOKE_DIGIT_COUNT} smoke digits correctly; at least ${SMOKE_MIN_ACCURACY * 100} % needed`);
  }
  return { digits: SMOKE_DIGIT_COUNT, accuracy };
}

/** How many smoke digits the model reads right; rejects with a SmokeCheckError when what it gives is not
 * ten probabilities a digit (the part of the check that says nothing of how well it was trained). */
export async function smokeAnswers(predictor: Pick<EngineModel, 'version' | 'predict'>): Promise<number> {
  // A copy: the worker classifier transfers the buffer it is given.
  const output = await predictor.predict(smokeImages().slice(), SMOKE_DIGIT_COUNT);
  if (output.length !== SMOKE_DIGIT_COUNT * CLASSES) {
    throw new SmokeCheckError(`model ${predictor.version} returned ${output.length} values for ${SMOKE_DIGIT_COUNT} digits, expected ${SMOKE_DIGIT_COUNT * CLASSES}`);
  }
  let correct = 0;
  for (let i = 0; i < SMOKE_DIGIT_COUNT; i++) {
    let sum = 0;
    for (let c = 0; c < CLASSES; c++) {
      const p = output[i * CLASSES + c] as number;
      if (!Number.isFinite(p) || p < 0) throw new SmokeCheckError(`model ${predictor.version} returned a probability of ${p}`);
      sum += p;
    }
    if (Math.abs(sum - 1) > SUM_TOLERANCE) throw new SmokeCheckError(`model ${predictor.version}: probabilities of digit ${i} sum to ${sum}, not 1`);
    if (argmax(output, i * CLASSES, CLASSES) === SMOKE_LABELS[i]) correct++;
  }
  return correct;
}
