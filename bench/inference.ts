// CPU cost of the model alone, per image, at several batch sizes, on each engine (one thread): the floor
// under what a consumer can serve per core. With --peer, side by side with ONNX Runtime's Python API
// running the same exported model.onnx (bench/peers/ort_inference.py, in a venv made under .tmp/ from
// PyPI), interleaved: peer, us, peer, us …, every run printed, then the medians and the ratios.
//
//   bun run bench/inference.ts [--engine onnx|wasm|both] [--peer] [--rounds 2] [--model DIR]
//                              [--batches 1,8,64,256] [--seconds 3] [--json FILE]
//
// --json FILE: every measurement (round, who, batch, µs CPU per image) as InferenceResults.
// Measures process CPU time (not wall time), so a busy machine changes the figures little.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ENGINES, type EngineModel, type EngineName } from '../src/model/engines.ts';
import { loadOnEngine } from '../src/model/load-on-engine.ts';
import { ModelNotFoundError, readEmbeddedModel, readModelDirectory } from '../src/model/model-source.ts';
import { exportToOnnx } from '../src/model/onnx/export-onnx.ts';
import { PIXELS } from '../src/protocol/image.ts';
import { benchFlagErrors, type BenchFlagErrors } from './cli-errors.ts';
import { writeJsonResults } from './json-results.ts';
import { pythonVenv } from './python-venv.ts';
import { median } from './stats.ts';

const errors: BenchFlagErrors = benchFlagErrors('bench/inference.ts');
const { fail, positive } = errors;
let flags;
try {
  flags = parseArgs({
    options: {
      engine: { type: 'string', default: 'both' },
      peer: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '2' },
      model: { type: 'string' },
      batches: { type: 'string', default: '1,8,64,256' },
      seconds: { type: 'string', default: '3' },
      json: { type: 'string' },
    },
  }).values;
} catch (error) {
  errors.fail((error as Error).message);
}

const engines: EngineName[] = flags.engine === 'both' ? [...ENGINES] : [flags.engine as EngineName];
for (const engine of engines) if (!ENGINES.includes(engine)) fail(`--engine must be onnx, wasm or both, not ${engine}`);
const batches = flags.batches.split(',').map((batch) => positive('batches', batch));
const seconds = positive('seconds', flags.seconds);
const rounds = positive('rounds', flags.rounds);
const REPO = resolve(import.meta.dir, '..');
const WORK = join(REPO, '.tmp/bench-inference');

const source = await (flags.model ? readModelDirectory(flags.model) : readEmbeddedModel()).catch((error: unknown) =>
  fail(error instanceof ModelNotFoundError ? error.message : `cannot read the model: ${String(error)}`),
);
const models = new Map<EngineName, EngineModel>();
for (const engine of engines) models.set(engine, await loadOnEngine(engine, source));

/** Mostly black with some grey, as a drawn digit is. */
const imagesOf = (batch: number) => new Float32Array(batch * PIXELS).map(() => (Math.random() < 0.2 ? Math.random() : 0));

async function ours(model: EngineModel, batch: number): Promise<number> {
  const images = imagesOf(batch);
  for (let i = 0; i < 5; i++) await model.predict(images, batch);
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  let calls = 0;
  while (performance.now() - wallStart < seconds * 1000) {
    await model.predict(images, batch);
    calls++;
  }
  const cpu = process.cpuUsage(cpuStart);
  return (cpu.user + cpu.system) / (calls * batch);
}

async function preparePeer(): Promise<{ python: string; modelPath: string }> {
  await mkdir(WORK, { recursive: true });
  const modelPath = join(WORK, `${source.version}.onnx`);
  await writeFile(modelPath, exportToOnnx(source).bytes);
  const python = await pythonVenv('.tmp/peers-venv', 'bench/peers/requirements-inference.txt');
  return { python, modelPath };
}

async function peer(python: string, modelPath: string): Promise<Map<number, number>> {
  const output = await run([python, join(REPO, 'bench/peers/ort_inference.py'), modelPath, batches.join(','), String(seconds)]);
  const lines = output.trim().split('\n').map((line) => JSON.parse(line) as { batch?: number; cpuMicrosPerImage?: number; onnxruntime?: string });
  const versions = lines.find((line) => line.onnxruntime);
  if (versions) peerVersions = JSON.stringify(versions);
  return new Map(lines.flatMap((line) => (line.batch !== undefined ? [[line.batch, line.cpuMicrosPerImage as number] as const] : [])));
}
let peerVersions = '';

async function run(command: string[]): Promise<string> {
  const child = Bun.spawn(command, { stdout: 'pipe', stderr: 'inherit' });
  const [output, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  if (code !== 0) throw new Error(`${command.join(' ')} exited ${code}`);
  return output;
}

const us = (value: number) => `${value.toFixed(1)} µs`;

console.log(`model ${source.version}; CPU time per image (user+system of the measuring process), ${seconds} s a batch size, ${rounds} round(s)`);
const peerSetup = flags.peer ? await preparePeer() : null;
/** What --json writes: every measurement in the order taken (peer, then us, each round). */
export interface InferenceResults {
  readonly model: string;
  readonly seconds: number;
  readonly rounds: number;
  readonly batches: readonly number[];
  readonly measurements: readonly { readonly round: number; readonly who: string; readonly batch: number; readonly cpuMicrosPerImage: number }[];
  /** The peer's versions as it printed them (JSON), '' without --peer. */
  readonly peerVersions: string;
}
const measurements: { round: number; who: string; batch: number; cpuMicrosPerImage: number }[] = [];
let round = 0;

const record = (who: string, batch: number, value: number) => {
  measurements.push({ round, who, batch, cpuMicrosPerImage: value });
  console.log(`  ${who.padEnd(22)} batch ${String(batch).padStart(4)}: ${us(value)} per image`);
};
for (round = 1; round <= rounds; round++) {
  console.log(`round ${round}/${rounds}`);
  if (peerSetup) for (const [batch, value] of await peer(peerSetup.python, peerSetup.modelPath)) record('ONNX Runtime (Python)', batch, value);
  for (const [engine, model] of models) for (const batch of batches) record(`stratus, ${engine}`, batch, await ours(model, batch));
}
if (peerVersions) console.log(`peer: ${peerVersions}`);

const whos = [...new Set(measurements.map((m) => m.who))];
const medianOf = (who: string, batch: number) => median(measurements.filter((m) => m.who === who && m.batch === batch).map((m) => m.cpuMicrosPerImage));
console.log('\nmedians, µs CPU per image');
console.log(`| batch | ${whos.join(' | ')} |${flags.peer ? [...models.keys()].map((engine) => ` ${engine} / Python |`).join('') : ''}`);
console.log(`|---|${whos.map(() => '---|').join('')}${flags.peer ? [...models.keys()].map(() => '---|').join('') : ''}`);
for (const batch of batches) {
  const cells = whos.map((who) => us(medianOf(who, batch)));
  const peerMedian = medianOf('ONNX Runtime (Python)', batch);
  const ratios = flags.peer ? [...models.keys()].map((engine) => ` ${(medianOf(`stratus, ${engine}`, batch) / peerMedian).toFixed(2)}× |`).join('') : '';
  console.log(`| ${batch} | ${cells.join(' | ')} |${ratios}`);
}
for (const model of models.values()) await model.dispose();
await writeJsonResults(flags.json, { model: source.version, seconds, rounds, batches, measurements, peerVersions } satisfies InferenceResults);
