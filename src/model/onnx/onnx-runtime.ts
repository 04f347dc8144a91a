// onnxruntime-node, loaded once per thread, by everything that uses it: in the compiled binary the library
// its addon needs must be loaded first. Bun embeds the addon and loads it from a temporary copy; the
// library (libonnxruntime.so.1) it would find beside itself is carried separately
// (src/embedded/onnxruntime-library.ts), written to disk and loaded here by path, so that when the addon
// asks for it by name, the dynamic linker finds it already loaded.
import { dlopen } from 'bun:ffi';
import type * as Ort from 'onnxruntime-node';
import { extractEmbeddedFile } from '../../embedded/extract-file.ts';
import { onnxRuntimeLibrary } from '../../embedded/onnxruntime-library.ts';

export type OnnxRuntime = typeof Ort;

export class OnnxRuntimeUnavailableError extends Error {
  override readonly name = 'OnnxRuntimeUnavailableError';
}

let loading: Promise<OnnxRuntime> | undefined;
/** Kept open for the life of the process: closing it could unload what the addon runs on. */
const loadedLibraries: unknown[] = [];

/** Rejects with an OnnxRuntimeUnavailableError saying why; a failure is final for this thread. */
export function loadOnnxRuntime(): Promise<OnnxRuntime> {
  loading ??= load();
  return loading;
}

async function load(): Promise<OnnxRuntime> {
  try {
    if (onnxRuntimeLibrary) {
      const path = await extractEmbeddedFile(onnxRuntimeLibrary);
      // Any exported symbol will do (bun:ffi wants one): what matters is the library being loaded.
      loadedLibraries.push(dlopen(path, { OrtGetApiBase: { args: [], returns: 'ptr' } }));
    }
    return await import('onnxruntime-node');
  } catch (error) {
    throw new OnnxRuntimeUnavailableError(`ONNX Runtime does not load: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
