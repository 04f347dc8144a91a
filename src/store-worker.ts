// The local store's thread: PouchDB spends ~100 µs of JavaScript on every document it writes, time the
// main thread needs for HTTP. Here a PouchStore does the work; WorkerStore forwards each call.
// It sits beside main.ts because the compiled binary resolves worker entry points from the root.
import { PouchStore } from './adapters/store/pouch-store.ts';
import type { StoreCall } from './adapters/store/worker-protocol.ts';
import { serveCalls } from './worker-calls.ts';

let store: PouchStore | null = null;

async function handle(call: StoreCall): Promise<unknown> {
  if (call.method === 'open') {
    store = new PouchStore(call.options);
    return store.open();
  }
  if (!store) throw new Error('store is closed');
  if (call.method === 'close') return store.close();
  const method = store[call.method] as (...args: readonly unknown[]) => Promise<unknown>;
  return method.apply(store, [...call.args]);
}

serveCalls(handle);
