import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { wasmPaths } from '../embedded/assets.ts';

let ready: Promise<void> | undefined;

/**
 * Activates tfjs's wasm backend from the embedded .wasm files. Callers share one attempt: the
 * backend cannot be initialised twice (setWasmPaths throws afterwards), so a failure is final.
 */
export async function initWasmBackend(): Promise<void> {
  ready ??= withoutAddedProcessHandlers(activate);
  return ready;
}

/**
 * Emscripten's glue installs uncaughtException/unhandledRejection handlers that rethrow, turning any
 * stray error anywhere in the process into its end. Whoever loads the backend (the trainer, the inference
 * worker, --inference main) keeps the process's own policy instead: the handlers it added are removed.
 */
async function withoutAddedProcessHandlers(action: () => Promise<void>): Promise<void> {
  const events = ['uncaughtException', 'unhandledRejection'] as const;
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event))]));
  try {
    await action();
  } finally {
    for (const event of events) {
      for (const listener of process.listeners(event)) {
        if (!before.get(event)?.has(listener)) process.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
  }
}

async function activate(): Promise<void> {
  // tfjs already reports no thread support when IS_NODE (true under Bun); pinning it keeps the
  // choice explicit: emscripten's pthread workers can't be spawned from the compiled binary.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  // A map rather than a prefix: inside the binary each embedded file gets a hashed name.
  // Emscripten's Node path reads it with fs.readFileSync, which understands /$bunfs paths.
  setWasmPaths(wasmPaths);
  let ok = false;
  let cause: unknown;
  try {
    ok = await tf.setBackend('wasm');
    await tf.ready();
  } catch (error) {
    cause = error;
  }
  if (!ok || tf.getBackend() !== 'wasm') {
    // setBackend resolves false rather than throwing; tfjs has already logged the reason.
    const detail = cause instanceof Error ? cause.message : 'tf.setBackend("wasm") returned false (see the tfjs error above)';
    throw new Error(`tfjs wasm backend could not be activated: ${detail}`, { cause });
  }
}
