// The local store's thread: PouchDB spends ~100 µs of JavaScript on every document it writes, time the
// main thread needs for HTTP. Here a PouchStore does the work; WorkerStore forwards each call.
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
  switch (call.method) {
    case 'close':
      return store.close();
    case 'saveResults':
      return store.saveResults(call.results);
    case 'getResult':
      return store.getResult(call.id);
    case 'sessionHistory':
      return store.sessionHistory(call.sessionId, call.limit);
    case 'clearSession':
      return store.clearSession(call.sessionId);
    case 'saveModel':
      return store.saveModel(call.meta, call.files);
    case 'listModels':
      return store.listModels();
    case 'loadModel':
      return store.loadModel(call.version);
    case 'getServingVersion':
      return store.getServingVersion();
    case 'setServingVersion':
      return store.setServingVersion(call.version);
    case 'saveFeedback':
      return store.saveFeedback(call.sample);
    case 'listFeedback':
      return store.listFeedback(call.limit);
  }
}

serveCalls(handle);
