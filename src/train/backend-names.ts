// What a training or evaluation run computes on (tfjs-free, so the config can import it).
// onnx: ONNX Runtime's native kernels compute each step's gradients (src/train/onnx/); the default where
// ONNX Runtime loads. wasm: tfjs's WebAssembly backend, embedded in the binary; it runs everywhere.
// tensorflow: @tensorflow/tfjs-node, an optional dependency whose install step downloads libtensorflow
// and so succeeds only where that is reachable.
export const TRAINING_BACKENDS = ['onnx', 'wasm', 'tensorflow'] as const;
export type TrainingBackend = (typeof TRAINING_BACKENDS)[number];

/** What worker threads can train on: tfjs-node's own native threads would fight them for the cores. */
export type WorkerBackend = Exclude<TrainingBackend, 'tensorflow'>;
