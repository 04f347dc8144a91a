// What each training image is trained towards when it is not simply its one-hot label: label smoothing,
// and knowledge distillation, where teacher models (larger networks, or several) have scored every
// training image once and the student learns their whole answer, which says which wrong digits an image
// resembles, not only the right one. Both become one count×10 array of target distributions on the
// split (MnistSplit.targets), which every way of training batches like the labels (batches.ts).
import { loadOnEngine } from '../model/load-on-engine.ts';
import { readModelDirectory } from '../model/model-source.ts';
import { IMAGE_SIZE, type MnistSplit } from './mnist.ts';

const CLASSES = 10;
/** Images per teacher call: large enough to amortise a call, small enough to stay a few MB. */
const TEACHER_BATCH = 512;

export interface TargetRecipe {
  /** ε: the label keeps 1 − ε and every digit gets ε / 10; absent or 0: none. */
  readonly labelSmoothing?: number;
  /** Model directories whose mean answer (on ONNX Runtime) the student learns. */
  readonly teachers?: readonly string[];
  /** The teachers' share of each target, the rest being the (smoothed) label; absent: 0.5. */
  readonly distillWeight?: number;
  /** Softens the teachers' answer (p^(1/T), renormalised) so their second choices weigh; absent: 2. */
  readonly distillTemperature?: number;
}

export const DISTILL_DEFAULTS = { weight: 0.5, temperature: 2 } as const;

export function wantsTargets(recipe: TargetRecipe): boolean {
  return (recipe.labelSmoothing ?? 0) > 0 || (recipe.teachers?.length ?? 0) > 0;
}

/** The split's targets, or null when the recipe trains on one-hot labels. */
export async function trainingTargets(split: MnistSplit, recipe: TargetRecipe): Promise<Float32Array | null> {
  if (!wantsTargets(recipe)) return null;
  const smoothing = recipe.labelSmoothing ?? 0;
  const targets = new Float32Array(split.count * CLASSES);
  for (let i = 0; i < split.count; i++) {
    targets.fill(smoothing / CLASSES, i * CLASSES, (i + 1) * CLASSES);
    targets[i * CLASSES + split.labels[i]!]! += 1 - smoothing;
  }
  const teachers = recipe.teachers ?? [];
  if (teachers.length === 0) return targets;
  const taught = await teachersAnswer(split, teachers, recipe.distillTemperature ?? DISTILL_DEFAULTS.temperature);
  const weight = recipe.distillWeight ?? DISTILL_DEFAULTS.weight;
  for (let k = 0; k < targets.length; k++) targets[k] = (1 - weight) * targets[k]! + weight * taught[k]!;
  return targets;
}

/** The teachers' mean softened distribution for every image of the split. */
async function teachersAnswer(split: MnistSplit, teachers: readonly string[], temperature: number): Promise<Float32Array> {
  const sum = new Float32Array(split.count * CLASSES);
  for (const dir of teachers) {
    const model = await loadOnEngine('onnx', await readModelDirectory(dir));
    try {
      for (let from = 0; from < split.count; from += TEACHER_BATCH) {
        const count = Math.min(TEACHER_BATCH, split.count - from);
        const probabilities = await model.predict(split.images.subarray(from * IMAGE_SIZE, (from + count) * IMAGE_SIZE), count);
        for (let i = 0; i < count; i++) addSoftened(probabilities.subarray(i * CLASSES, (i + 1) * CLASSES), sum, (from + i) * CLASSES, 1 / teachers.length, temperature);
      }
    } finally {
      await model.dispose();
    }
  }
  return sum;
}

/** Adds share × softmax(log p / T) into `into` at `at`. */
export function addSoftened(p: Float32Array, into: Float32Array, at: number, share: number, temperature: number): void {
  let total = 0;
  const softened = new Float64Array(p.length);
  for (let c = 0; c < p.length; c++) total += softened[c] = Math.max(p[c]!, 1e-30) ** (1 / temperature);
  for (let c = 0; c < p.length; c++) into[at + c]! += (share * softened[c]!) / total;
}
