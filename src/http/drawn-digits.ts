// A drawing (pen strokes) → the digits it holds → one classification of all of them. Shared by the API's
// drawn form of POST /api/predict and the page's Predict.
import { CLASSES, PIXELS } from '../protocol/image.ts';
import { DrawingError, validateDrawing } from '../preprocess/drawing.ts';
import { drawingToPixels } from '../preprocess/mnist-style.ts';
import { segmentDrawing } from '../preprocess/segment.ts';
import { HttpError } from './errors.ts';
import type { Classification, ClassifyOptions, Gateway } from './gateway.ts';

export interface DrawnClassification {
  readonly answer: Classification;
  /** count × 784 values: the images the model saw, digit by digit, left to right. */
  readonly pixels: Float32Array;
  readonly count: number;
}

export interface DigitAnswer {
  readonly digit: number;
  readonly probabilities: number[];
}

/** Validates untrusted input as a drawing; a bad one is a 422 with the validator's short message. */
export function readDrawing(input: unknown) {
  try {
    return validateDrawing(input);
  } catch (error) {
    if (error instanceof DrawingError) throw new HttpError(422, 'invalid_drawing', error.message);
    throw error;
  }
}

export async function classifyDrawing(gateway: Gateway, input: unknown, options: ClassifyOptions = {}): Promise<DrawnClassification> {
  const digits = segmentDrawing(readDrawing(input));
  if (digits.length === 0) throw new HttpError(422, 'invalid_drawing', 'the drawing has no ink');
  const pixels = new Float32Array(digits.length * PIXELS);
  digits.forEach((digit, i) => pixels.set(drawingToPixels(digit), i * PIXELS));
  // One request for the whole number: its digits travel, batch and are stored together.
  const answer = await gateway.classify(pixels, digits.length, options);
  return { answer, pixels, count: digits.length };
}

/** The flat count × 10 probabilities of an answer, digit by digit. */
export function digitAnswers(answer: Classification): DigitAnswer[] {
  return answer.digits.map((digit, i) => ({ digit, probabilities: answer.probabilities.slice(i * CLASSES, (i + 1) * CLASSES) }));
}
