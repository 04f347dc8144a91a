// A worker thread that speaks the calls protocol (src/worker-calls.ts) but never answers: work handed to
// it stays pending for as long as the test likes, so what the caller does meanwhile is seen without
// racing the work.
import { serveCalls } from '../../src/worker-calls.ts';

serveCalls(() => new Promise<never>(() => {}));
