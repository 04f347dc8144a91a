// Calls from the consumer (main thread) to the inference worker.
import type { EngineName } from './engines.ts';
import type { ModelSource } from './model-source.ts';

export type InferenceCall =
  | { readonly method: 'load'; readonly engine: EngineName; readonly source: ModelSource }
  /** Answered with count×10 probabilities. */
  | { readonly method: 'predict'; readonly images: Float32Array; readonly count: number };
