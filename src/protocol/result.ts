// What one prediction request ends as: the answer the consumer stores under the request's id, that the
// page lists in a visitor's history and that a redelivery finds already there.

export interface PredictionResult {
  /** The request id: storing the same id twice keeps the first result (redeliveries are harmless). */
  readonly id: string;
  /** One entry per image in the request, in order. */
  readonly digits: readonly number[];
  readonly probabilities: readonly (readonly number[])[];
  readonly modelVersion: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly sessionId?: string;
  /** For a drawn number sent with alternative splits: how many there were, and which were taken (by
   * index; none when the gateway's own split won). */
  readonly split?: { readonly alternatives: number; readonly taken: readonly number[] };
  /** The images the model saw (imagesToText in image.ts), kept for the page's predictions so that their
   * digits can be labelled from any gateway until the result expires. */
  readonly images?: string;
}
