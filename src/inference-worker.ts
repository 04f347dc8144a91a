// The classifier's thread. Inference is CPU-bound and runs on the calling thread on either engine
// (onnxruntime-node's promise only defers the run to the next turn); running it here leaves the main thread
// to HTTP, JSON and the store, so the two cores work side by side.
// It sits beside main.ts because the compiled binary resolves worker entry points from the root.
import type { EngineModel } from './model/engines.ts';
import { loadOnEngine } from './model/load-on-engine.ts';
import type { InferenceCall } from './model/worker-protocol.ts';
import { serveCalls } from './worker-calls.ts';

let model: EngineModel | null = null;

async function handle(call: InferenceCall): Promise<unknown> {
  if (call.method === 'load') {
    const loaded = await loadOnEngine(call.engine, call.source);
    await model?.dispose();
    model = loaded;
    return loaded.version;
  }
  if (!model) throw new Error('no model loaded');
  return model.predict(call.images, call.count);
}

// The probabilities go back by transfer: nothing on this side keeps them.
serveCalls(handle, (value) => (value instanceof Float32Array ? [value.buffer as ArrayBuffer] : []));
