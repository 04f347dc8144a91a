// The classifier's thread. Inference is CPU-bound and synchronous in tfjs; running it here leaves the
// main thread to HTTP, JSON and the store, so the two cores work side by side.
// It sits beside main.ts because the compiled binary resolves worker entry points from the root.
import { Classifier } from './model/classifier.ts';
import { initWasmBackend } from './model/wasm-backend.ts';
import type { InferenceCall } from './model/worker-protocol.ts';
import { serveCalls } from './worker-calls.ts';

let classifier: Classifier | null = null;

async function handle(call: InferenceCall): Promise<unknown> {
  if (call.method === 'load') {
    await initWasmBackend();
    const loaded = await Classifier.load(call.source);
    classifier?.dispose();
    classifier = loaded;
    return loaded.version;
  }
  if (!classifier) throw new Error('no model loaded');
  return classifier.predict(call.images, call.count);
}

// The probabilities go back by transfer: nothing on this side keeps them.
serveCalls(handle, (value) => (value instanceof Float32Array ? [value.buffer as ArrayBuffer] : []));
