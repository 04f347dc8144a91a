// The classifier's thread. Inference is CPU-bound and synchronous in tfjs; running it here leaves the
// main thread to HTTP, JSON and the store, so the two cores work side by side.
// It sits beside main.ts because the compiled binary resolves worker entry points from the root.
import { Classifier } from './model/classifier.ts';
import type { ModelSource } from './model/shape.ts';
import { initWasmBackend } from './model/wasm-backend.ts';
import type { WorkerReply, WorkerRequest } from './model/worker-protocol.ts';

declare const self: Worker;

let classifier: Classifier | null = null;

const reply = (message: WorkerReply, transfer: Transferable[] = []) => self.postMessage(message, transfer);
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function load(source: ModelSource): Promise<void> {
  await initWasmBackend();
  const loaded = await Classifier.load(source);
  classifier?.dispose();
  classifier = loaded;
}

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === 'load') {
    load(request.source).then(
      () => reply({ type: 'loaded', version: request.source.version }),
      (error: unknown) => reply({ type: 'failed', id: null, message: describe(error) }),
    );
    return;
  }
  try {
    if (!classifier) throw new Error('no model loaded');
    const probabilities = classifier.predict(request.images, request.count);
    reply({ type: 'predicted', id: request.id, probabilities }, [probabilities.buffer]);
  } catch (error) {
    reply({ type: 'failed', id: request.id, message: describe(error) });
  }
};
