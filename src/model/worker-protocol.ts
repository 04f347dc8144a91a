// Messages between the consumer (main thread) and the inference worker.
import type { ModelSource } from './shape.ts';

export type WorkerRequest =
  | { readonly type: 'load'; readonly source: ModelSource }
  | { readonly type: 'predict'; readonly id: number; readonly images: Float32Array; readonly count: number };

export type WorkerReply =
  | { readonly type: 'loaded'; readonly version: string }
  | { readonly type: 'predicted'; readonly id: number; readonly probabilities: Float32Array }
  /** id null: the load failed. */
  | { readonly type: 'failed'; readonly id: number | null; readonly message: string };
