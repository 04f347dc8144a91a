// Calls from WorkerStore to the store thread (src/store-worker.ts): open with the PouchStore's options,
// close, or any other Store method by name with its arguments, answered with what it returns.
import type { PouchStoreOptions } from './pouch-store.ts';
import type { Store } from './store.ts';

/** The Store methods the thread runs as they are. */
export type ForwardedMethod = Exclude<{ [K in keyof Store]: Store[K] extends (...args: never[]) => Promise<unknown> ? K : never }[keyof Store], 'open' | 'close'>;

export type StoreCall =
  | { readonly method: 'open'; readonly options: PouchStoreOptions }
  | { readonly method: 'close' }
  | { readonly method: ForwardedMethod; readonly args: readonly unknown[] };
