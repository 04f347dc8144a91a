// What the page shows of one prediction; the store's PredictionResult has this shape.
import type { PredictionResult } from '../adapters/store/store.ts';

export type PagePrediction = Pick<PredictionResult, 'id' | 'digits' | 'probabilities' | 'modelVersion' | 'createdAt'>;

/** The number as read: "4821" for four digits, "7" for one. */
export function numberRead(prediction: Pick<PredictionResult, 'digits'>): string {
  return prediction.digits.join('');
}
