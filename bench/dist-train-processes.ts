// bench/dist-train.ts --kafka: one run of N `stratus --role trainer` processes, ranks 0..N-1, training one
// model over a real Kafka (src/train/distributed/), as a Kubernetes Indexed Job runs them.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TrainResult } from '../src/train/run-records.ts';

const MAIN = resolve(import.meta.dir, '../src/main.ts');

export interface ProcessRun {
  readonly wall: number;
  readonly result: TrainResult;
  /** CPU seconds of all the processes, from start to exit (startup, MNIST, test scoring included). */
  readonly cpu: number;
}

export interface ProcessRecipe {
  readonly ranks: number;
  readonly brokers: string;
  readonly mnist: string;
  readonly outDir: string;
  readonly args: readonly string[];
}

export async function runProcesses(recipe: ProcessRecipe): Promise<ProcessRun> {
  const jobId = `bench-${crypto.randomUUID()}`;
  const started = performance.now();
  const procs = Array.from({ length: recipe.ranks }, (_, rank) =>
    Bun.spawn(
      ['bun', MAIN, '--role', 'trainer', '--transport', 'kafka', '--kafka-brokers', recipe.brokers, '--store', 'memory', '--port', '0', '--log-level', 'warn',
        '--rank', String(rank), '--world-size', String(recipe.ranks), '--job-id', jobId, '--mnist-dir', recipe.mnist, '--out', join(recipe.outDir, `rank${rank}`), ...recipe.args],
      { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' },
    ),
  );
  const errors = await Promise.all(procs.map((p) => new Response(p.stderr).text()));
  const codes = await Promise.all(procs.map((p) => p.exited));
  const wall = (performance.now() - started) / 1000;
  const failed = codes.findIndex((code) => code !== 0);
  if (failed >= 0) throw new Error(`rank ${failed} exited with ${codes[failed]}: ${errors[failed]!.trim().split('\n').at(-1)}`);
  const cpu = procs.reduce((sum, p) => {
    const usage = p.resourceUsage();
    return sum + (usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6 : Number.NaN);
  }, 0);
  const result = JSON.parse(readFileSync(join(recipe.outDir, 'rank0', 'metadata.json'), 'utf8')) as TrainResult;
  return { wall, result, cpu };
}
