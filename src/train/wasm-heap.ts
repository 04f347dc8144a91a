// The slice of tfjs' BackendWasm that the training kernels (wasm-kernels.ts, fast-adam.ts) and the
// parameter exchange (params.ts) read directly: the heap and where each tensor sits in it. Not in tfjs'
// public typings, so pinned by test/train/wasm-kernels.test.ts.
import type * as tf from '@tensorflow/tfjs';

export interface WasmBackend {
  /** asm.memory: the heap's WebAssembly.Memory (adam-kernel.ts runs on it). */
  wasm: { HEAPF32: Float32Array; asm: { memory: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
  incRef(dataId: object): void;
}

/** Where `t`'s values start in HEAPF32 (in floats, not bytes). */
export function heapIndex(be: WasmBackend, t: tf.TensorInfo): number {
  const entry = be.dataIdMap.get(t.dataId);
  if (!entry) throw new Error('tensor is not on the wasm backend');
  return entry.memoryOffset >> 2;
}
