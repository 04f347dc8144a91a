// What the page shows of one prediction (a stored result has this shape, and more).
export interface PagePrediction {
  readonly id: string;
  /** One entry per digit drawn, left to right. */
  readonly digits: readonly number[];
  /** Ten probabilities per digit. */
  readonly probabilities: readonly (readonly number[])[];
  readonly modelVersion: string;
  /** ISO 8601. */
  readonly createdAt: string;
}

/** The number as read: "4821" for four digits, "7" for one. */
export function numberRead(prediction: Pick<PagePrediction, 'digits'>): string {
  return prediction.digits.join('');
}
