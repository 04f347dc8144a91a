// A drawing (pen strokes) → the digits it holds → one classification of all of them. Shared by the API's
// drawn form of POST /api/predict and the page's Predict, which both go through an Intake: the gateway,
// behind the client's fair share of the in-flight slots, with costly drawings made off the event loop.
import { CLASSES } from '../protocol/image.ts';
import { CHEAP_DRAWING_US, drawingCostUs } from '../preprocess/digit-images.ts';
import { DrawingError, validateDrawing } from '../preprocess/drawing.ts';
import type { RouteClass } from '../config.ts';
import type { Admission } from './admission.ts';
import type { DrawingPool } from './drawing-pool.ts';
import { HttpError } from './errors.ts';
import type { Classification, ClassifyOptions, Gateway } from './gateway.ts';

/** What a route needs to classify for a client. */
export interface Intake {
  readonly gateway: Gateway;
  readonly admission: Admission;
  readonly drawings: DrawingPool;
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

/** `count` images classified for `client`, holding one of its in-flight slots. */
export function classifyImages(intake: Intake, kind: RouteClass, client: string, pixels: Float32Array, count: number, options: ClassifyOptions = {}): Promise<Classification> {
  return intake.admission.hold(kind, client, () => intake.gateway.classify(pixels, count, options));
}

/** The digits of a drawing classified for `client`; its slot is held while the drawing is made, too. */
export function classifyDrawing(intake: Intake, kind: RouteClass, client: string, input: unknown, options: ClassifyOptions = {}): Promise<Classification> {
  const drawing = readDrawing(input);
  // Paid for in requests: the costliest drawing counts as some hundred, so one client's drawings cannot take
  // more of the threads than its rate allows.
  const costUs = drawingCostUs(drawing);
  intake.admission.charge(kind, client, costUs / CHEAP_DRAWING_US - 1);
  return intake.admission.hold(kind, client, async () => {
    const { pixels, count, split } = await intake.drawings.images(drawing, costUs, client);
    if (count === 0) throw new HttpError(422, 'invalid_drawing', 'the drawing has no ink');
    // One request for the whole number: its digits travel, batch and are stored together, with the other
    // ways it could be split, for the consumer to choose from.
    return intake.gateway.classify(pixels, count, split ? { ...options, split } : options);
  });
}

/** The flat count × 10 probabilities of an answer, digit by digit. */
export function digitAnswers(answer: Classification): DigitAnswer[] {
  return answer.digits.map((digit, i) => ({ digit, probabilities: answer.probabilities.slice(i * CLASSES, (i + 1) * CLASSES) }));
}
