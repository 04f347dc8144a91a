// Activates the backend a training or evaluation run asked for (--backend).
import * as tf from '@tensorflow/tfjs';
import { initWasmBackend } from '../model/wasm-backend.ts';
import type { TrainingBackend } from './backend-names.ts';
import { registerWasmTrainingKernels } from './wasm-kernels.ts';

// A variable, not a literal: the bundler must not try to embed the native addon into the binary.
const TFJS_NODE = '@tensorflow/tfjs-node';

export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

/** Null when @tensorflow/tfjs-node loads here; otherwise one line saying why it does not. */
export async function tensorflowUnavailable(): Promise<string | null> {
  try {
    await import(TFJS_NODE);
    return null;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return `--backend tensorflow: ${TFJS_NODE} does not load on this machine (${reason}); use --backend wasm`;
  }
}

export async function initTrainingBackend(backend: TrainingBackend): Promise<void> {
  if (backend === 'wasm') {
    // initWasmBackend reads the embedded .wasm files, so this also works inside the compiled binary.
    await initWasmBackend();
    registerWasmTrainingKernels();
    if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
    return;
  }
  const problem = await tensorflowUnavailable();
  if (problem) throw new BackendUnavailableError(problem);
  if (!(await tf.setBackend('tensorflow'))) throw new BackendUnavailableError('--backend tensorflow: tfjs-node loaded but its backend did not start');
}
