// Which way to read a drawn number: the gateway's split of it into digits, or some of the alternatives it
// sent along (src/preprocess/split-alternatives.ts). Each reading is scored by the product of its digits'
// top probabilities, the chance, as far as the model can tell, that every digit of it is read right; an
// alternative is taken where it scores higher than the run of digits it replaces. Alternatives that
// replace separate runs are judged separately (the product splits into the runs' products); of those that
// overlap, the one that gains the most wins.
import { CLASSES } from '../protocol/image.ts';
import type { AlternativeReading } from '../protocol/messages.ts';

export interface SplitChoice {
  /** The images read as the number's digits, left to right (indices into the request's images). */
  readonly images: number[];
  /** The alternatives taken, by index; empty when the gateway's own split won. */
  readonly taken: number[];
}

/**
 * `probabilities` holds CLASSES values per image of the request; its first `primary` images are the
 * gateway's split.
 */
export function chooseSplit(probabilities: ArrayLike<number>, primary: number, alternatives: readonly AlternativeReading[]): SplitChoice {
  const primaryImages = Array.from({ length: primary }, (_, i) => i);
  if (alternatives.length === 0) return { images: primaryImages, taken: [] };
  const logSure = (images: readonly number[]) => images.reduce((sum, image) => sum + Math.log(topProbability(probabilities, image)), 0);
  const gains = alternatives
    .map((alternative, index) => ({ alternative, index, gain: logSure(alternative.images) - logSure(primaryImages.slice(alternative.from, alternative.to)) }))
    .filter(({ gain }) => gain > 0)
    .sort((a, b) => b.gain - a.gain);
  const taken: typeof gains = [];
  for (const candidate of gains) {
    const { from, to } = candidate.alternative;
    if (taken.every(({ alternative }) => alternative.to <= from || to <= alternative.from)) taken.push(candidate);
  }
  taken.sort((a, b) => a.alternative.from - b.alternative.from);
  const images: number[] = [];
  let next = 0;
  for (const { alternative } of taken) {
    images.push(...primaryImages.slice(next, alternative.from), ...alternative.images);
    next = alternative.to;
  }
  images.push(...primaryImages.slice(next));
  return { images, taken: taken.map(({ index }) => index) };
}

function topProbability(probabilities: ArrayLike<number>, image: number): number {
  let top = 0;
  for (let k = 0; k < CLASSES; k++) top = Math.max(top, probabilities[image * CLASSES + k] as number);
  // A zero would make every reading holding it equally impossible: floor it so the rest still counts.
  return Math.max(top, 1e-12);
}
