// Before a published version is stored, and so before any consumer is told to serve it, it is loaded
// once in a process of its own (`stratus model trial`, trial-run.ts) and must answer the smoke digits
// with ten probabilities each, while this process watches the trial's resident memory and kills it past
// the cap. A model that would need more memory than that, or that crashes the engine, costs that
// short-lived process, not a consumer: the publish is refused. How well the model reads digits is left to
// the consumers' smoke check (model-loader.ts), as before: a version that answers badly is stored and
// refused there, and the serving one stays.
// Why a watch and not a limit the kernel enforces: Bun maps several GB of writable address space at
// start and serves array buffers from it, so RLIMIT_DATA does not stop them, and RLIMIT_AS stops Bun
// itself; a cgroup would, but a pod cannot make one. Resident memory read every 20 ms lets a trial
// overshoot by what it can touch in that time (tens of MB), never by gigabytes.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelFiles } from '../adapters/store/store.ts';
import { selfCommand } from '../workers.ts';
import { ModelLimitError } from './model-limits.ts';

export interface TrialOptions {
  /** The most resident memory the trial process may reach. */
  readonly memoryMb: number;
  /** A trial that has not answered by then is killed and the model refused. */
  readonly timeoutMs?: number;
}

/** The trial of the embedded model (lean, on onnxruntime) peaks at ~115 MB resident, nearly all of it the
 * runtime and engine; a model at the publish limits (model-limits.ts: 4 M parameters, 16 MB of weights)
 * adds a few times its weights. 512 MB leaves room for that and stays far below a consumer's limit. */
export const DEFAULT_TRIAL_MEMORY_MB = 512;
const DEFAULT_TIMEOUT_MS = 60_000;
const WATCH_EVERY_MS = 20;
const PAGE_BYTES = 4096;

export type ModelTrial = (version: string, files: ModelFiles) => Promise<void>;

/** The trial load under a cap of `memoryMb`, as a ModelRegistry takes it. */
export const trialUnder =
  (memoryMb: number): ModelTrial =>
  (version, files) =>
    trialLoad(version, files, { memoryMb });

/** Resolves once the model passed its trial; rejects with a ModelLimitError (a refusal at publish) saying
 * why it did not. */
export async function trialLoad(version: string, files: ModelFiles, options: TrialOptions): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'stratus-trial-'));
  try {
    await Promise.all([
      writeFile(join(dir, 'model.json'), files.modelJson),
      writeFile(join(dir, 'weights.bin'), files.weightsBin),
      writeFile(join(dir, 'metadata.json'), JSON.stringify({ version })),
      ...(files.modelOnnx ? [writeFile(join(dir, 'model.onnx'), files.modelOnnx)] : []),
    ]);
    const child = Bun.spawn([...selfCommand(), 'model', 'trial', '--model', dir], {
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
      // Nothing of this process's settings (store, transport, secrets) is the trial's business.
      env: { PATH: process.env.PATH ?? '', STRATUS_LOG_LEVEL: 'warn' },
    });
    let ended: string | null = null;
    const end = (why: string) => {
      ended ??= why;
      child.kill('SIGKILL');
    };
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(() => end(`it did not answer within ${timeoutMs / 1000} s`), timeoutMs);
    const watch = setInterval(() => {
      const resident = residentBytes(child.pid);
      if (resident !== null && resident > options.memoryMb * 1024 * 1024) end(`it took more than ${options.memoryMb} MB`);
    }, WATCH_EVERY_MS);
    const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]).finally(() => {
      clearTimeout(timer);
      clearInterval(watch);
    });
    if (code === 0 && ended === null) return;
    const said = stderr.trim().split('\n').at(-1)?.replace(/^stratus: model trial failed: /, '');
    throw new ModelLimitError(`model ${version} failed its trial load: ${ended ?? said ?? `it exited with ${code}`}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The process's resident set, from /proc (Linux); null once it is gone or where there is no /proc. */
function residentBytes(pid: number): number | null {
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return Number.isFinite(pages) ? pages * PAGE_BYTES : null;
  } catch {
    return null;
  }
}
