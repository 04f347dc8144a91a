// The tfjs backends a training or evaluation run can use (tfjs-free, so the config can import it).
// wasm is always there (embedded in the binary); tensorflow is @tensorflow/tfjs-node, an optional
// dependency whose install step downloads libtensorflow and so succeeds only where that is reachable.
export const TRAINING_BACKENDS = ['wasm', 'tensorflow'] as const;
export type TrainingBackend = (typeof TRAINING_BACKENDS)[number];
