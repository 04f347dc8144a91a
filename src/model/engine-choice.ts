// Which engine this process serves on, decided once at start: the one asked for, or by default onnx
// wherever ONNX Runtime loads and wasm (which runs everywhere) where it does not, with the reason, for a
// warning. An engine asked for by name that cannot load is a mistake to report, not to paper over.
import type { EngineName } from './engines.ts';
import { loadOnnxRuntime } from './onnx/onnx-runtime.ts';

export interface EngineChoice {
  readonly engine: EngineName;
  /** Why the default fell back to wasm; null when it did not. */
  readonly fallbackReason: string | null;
}

export class EngineUnavailableError extends Error {
  override readonly name = 'EngineUnavailableError';
}

/** `requested` null: the default. Loading ONNX Runtime here also makes it ready for this thread. */
export async function chooseEngine(requested: EngineName | null): Promise<EngineChoice> {
  if (requested === 'wasm') return { engine: 'wasm', fallbackReason: null };
  try {
    await loadOnnxRuntime();
    return { engine: 'onnx', fallbackReason: null };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (requested === 'onnx') throw new EngineUnavailableError(`engine onnx was asked for, but ${reason} (--engine wasm runs everywhere)`, { cause: error });
    return { engine: 'wasm', fallbackReason: reason };
  }
}
