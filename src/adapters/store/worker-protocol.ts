// Calls from WorkerStore to the store thread, and the answers.
import type { PouchStoreOptions } from './pouch-store.ts';
import type { FeedbackSample, ModelFiles, ModelVersion, PredictionResult } from './store.ts';

export type StoreCall =
  | { readonly method: 'open'; readonly options: PouchStoreOptions }
  | { readonly method: 'close' }
  | { readonly method: 'saveResults'; readonly results: readonly PredictionResult[] }
  | { readonly method: 'getResult'; readonly id: string }
  | { readonly method: 'sessionHistory'; readonly sessionId: string; readonly limit: number }
  | { readonly method: 'clearSession'; readonly sessionId: string }
  | { readonly method: 'saveModel'; readonly meta: ModelVersion; readonly files: ModelFiles }
  | { readonly method: 'listModels' }
  | { readonly method: 'loadModel'; readonly version: string }
  | { readonly method: 'getServingVersion' }
  | { readonly method: 'setServingVersion'; readonly version: string }
  | { readonly method: 'saveFeedback'; readonly sample: FeedbackSample }
  | { readonly method: 'listFeedback'; readonly limit: number };
