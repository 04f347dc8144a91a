// CPU cost of the model alone, per image, at several batch sizes, on the wasm backend (one thread):
// the floor under what a consumer can serve per core.
//
//   bun run bench/inference.ts [--model DIR] [--batches 1,8,64,256] [--seconds 3]
//
// Measures process CPU time (not wall time), so a busy machine changes the figures little.
import { parseArgs } from 'node:util';
import { Classifier } from '../src/model/classifier.ts';
import { readEmbeddedModel, readModelDirectory } from '../src/model/model-source.ts';
import { PIXELS } from '../src/protocol/image.ts';
import { initWasmBackend } from '../src/model/wasm-backend.ts';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' },
    batches: { type: 'string', default: '1,8,64,256' },
    seconds: { type: 'string', default: '3' },
  },
});

await initWasmBackend();
const source = flags.model ? await readModelDirectory(flags.model) : await readEmbeddedModel();
const classifier = await Classifier.load(source);
console.log(`model ${source.version}; CPU time per image (user+system of this process)`);
for (const batch of (flags.batches as string).split(',').map(Number)) {
  const images = new Float32Array(batch * PIXELS).map(() => (Math.random() < 0.2 ? Math.random() : 0));
  for (let i = 0; i < 5; i++) classifier.predict(images, batch); // warm-up
  const budgetMs = Number(flags.seconds) * 1000;
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  let calls = 0;
  while (performance.now() - wallStart < budgetMs) {
    classifier.predict(images, batch);
    calls++;
  }
  const cpu = process.cpuUsage(cpuStart);
  const cpuUs = (cpu.user + cpu.system) / (calls * batch);
  console.log(`batch ${String(batch).padStart(4)}: ${cpuUs.toFixed(1)} µs CPU per image (${calls} calls)`);
}
