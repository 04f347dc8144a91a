// A data-parallel training worker (--workers N): one of N threads, each with its own tfjs wasm backend,
// that train one model together through shared memory (src/train/parallel/).
// It sits beside main.ts because the compiled binary resolves worker entry points from the root.
import { handleTrainCall } from './train/parallel/worker-trainer.ts';
import type { TrainWorkerCall } from './train/parallel/protocol.ts';
import { serveCalls } from './worker-calls.ts';

serveCalls<TrainWorkerCall>(handleTrainCall);
