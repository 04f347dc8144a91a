// Activates the backend a training or evaluation run asked for (--backend), and picks the default.
import * as tf from '@tensorflow/tfjs';
import { chooseEngine } from '../model/engine-choice.ts';
import { initWasmBackend } from '../model/wasm-backend.ts';
import { loadOnnxRuntime } from '../model/onnx/onnx-runtime.ts';
import type { TrainingBackend } from './backend-names.ts';
import { registerWasmTrainingKernels } from './wasm-kernels.ts';

// A variable, not a literal: the bundler must not try to embed the native addon into the binary.
const TFJS_NODE = '@tensorflow/tfjs-node';

export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

export interface BackendChoice {
  readonly backend: TrainingBackend;
  /** Why the default fell back to wasm; null when it did not. */
  readonly fallbackReason: string | null;
}

/**
 * `requested` null: the serving engine's default (onnx where ONNX Runtime loads, else wasm, with the
 * reason for a warning). A backend asked for by name is not replaced: initTrainingBackend reports it.
 */
export async function chooseTrainingBackend(requested: TrainingBackend | null): Promise<BackendChoice> {
  if (requested) return { backend: requested, fallbackReason: null };
  const { engine, fallbackReason } = await chooseEngine(null);
  return { backend: engine, fallbackReason };
}

/** Null when `backend` loads here; otherwise one line saying why it does not (a usage error: asked for by name). */
export async function backendUnavailable(backend: TrainingBackend): Promise<string | null> {
  try {
    if (backend === 'tensorflow') await import(TFJS_NODE);
    if (backend === 'onnx') await loadOnnxRuntime();
    return null;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const what = backend === 'tensorflow' ? `${TFJS_NODE} does not load on this machine (${reason})` : reason;
    return `--backend ${backend}: ${what}; use --backend wasm`;
  }
}

export async function initTrainingBackend(backend: TrainingBackend): Promise<void> {
  if (backend === 'onnx') {
    const problem = await backendUnavailable('onnx');
    if (problem) throw new BackendUnavailableError(problem);
  }
  if (backend === 'onnx' || backend === 'wasm') {
    // The weights, the optimizer and the scoring stay in tfjs on wasm whichever computes the gradients.
    // initWasmBackend reads the embedded .wasm files, so this also works inside the compiled binary.
    await initWasmBackend();
    registerWasmTrainingKernels();
    if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
    return;
  }
  const problem = await backendUnavailable('tensorflow');
  if (problem) throw new BackendUnavailableError(problem);
  if (!(await tf.setBackend('tensorflow'))) throw new BackendUnavailableError('--backend tensorflow: tfjs-node loaded but its backend did not start');
}
