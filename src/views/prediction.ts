// What the page shows of one prediction: a stored result, less the session it belongs to.
import type { PredictionResult } from '../protocol/result.ts';

export type PagePrediction = Pick<PredictionResult, 'id' | 'digits' | 'probabilities' | 'modelVersion' | 'createdAt'> & {
  /** The store holds the images the model saw, so each digit can be labelled (feedback). */
  readonly labelable?: boolean;
};

/** The number as read: "4821" for four digits, "7" for one. */
export function numberRead(prediction: Pick<PagePrediction, 'digits'>): string {
  return prediction.digits.join('');
}
