// Entry points of the process's worker threads. They sit beside main.ts: a compiled binary resolves
// worker URLs from its root, so this module (also at the root) is the one place that names them, and
// scripts/build.ts lists the same files as extra entry points.
export const INFERENCE_WORKER = new URL('./inference-worker.ts', import.meta.url);
export const STORE_WORKER = new URL('./store-worker.ts', import.meta.url);
export const TRAIN_WORKER = new URL('./train-worker.ts', import.meta.url);
export const PREPROCESS_WORKER = new URL('./preprocess-worker.ts', import.meta.url);

/** How this process runs itself again (`stratus model trial`): the binary alone when compiled, where
 * main.ts is inside it; else bun with main.ts, which sits beside this module. */
export function selfCommand(): string[] {
  const main = new URL('./main.ts', import.meta.url).pathname;
  return main.startsWith('/$bunfs/') ? [process.execPath] : [process.execPath, main];
}
