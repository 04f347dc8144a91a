// Training time and accuracy: the trainer role run as a job (`stratus --role trainer`), its report.json
// read afterwards. The seed recipe is the paper's network (one conv block, Dense 100); the default
// recipe is the embedded model's. The paper trained on 5 Spark workers; here 1 or 2 threads of one process.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EpochRecord, TrainingReport } from '../../src/train/report.ts';
import type { Children } from './outcome.ts';
import { displayCommand, freePort, REPO, relativeToRepo } from './processes.ts';

export type Recipe = 'seed' | 'default';

export interface TrainingRun {
  readonly recipe: Recipe;
  readonly workers: number;
  readonly command: string;
  readonly epochs: number;
  readonly trainSamples: number;
  readonly testAccuracy: number;
  readonly trainingSeconds: number;
  readonly wallSeconds: number;
  readonly samplesPerSecond: number;
  readonly params: number;
  readonly history: EpochRecord[];
  readonly logFile: string;
}

/** `limits` shortens the run (quick mode): epochs and training samples per epoch. */
export async function runTraining(
  children: Children,
  command: readonly string[],
  recipe: Recipe,
  workers: number,
  mnistDir: string,
  rawDir: string,
  limits: { epochs?: number; maxSamples?: number },
): Promise<TrainingRun> {
  const outDir = await mkdtemp(join(tmpdir(), `stratus-eval-train-${recipe}-`));
  // .jsonl, not .log: the repository ignores *.log, and the committed report points at these files.
  const logFile = join(rawDir, `training-${recipe}-${workers}w.jsonl`);
  const args = [...command, '--role', 'trainer', '--arch', recipe, '--mnist-dir', mnistDir, '--out', outDir, '--port', String(freePort())];
  // --workers N: N threads train one model data-parallel; one worker is the plain single-thread trainer.
  if (workers > 1) args.push('--workers', String(workers));
  if (limits.epochs !== undefined) args.push('--epochs', String(limits.epochs));
  if (limits.maxSamples !== undefined) args.push('--max-samples', String(limits.maxSamples));
  try {
    // Not a terminal, so the trainer logs JSON lines (one per epoch): kept as the run's raw record.
    const proc = children.spawn(args, { cwd: REPO, stdin: 'ignore', stdout: Bun.file(logFile), stderr: 'pipe' });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`trainer exited with ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`);
    const report = (await Bun.file(join(outDir, 'report.json')).json()) as TrainingReport;
    return {
      recipe,
      workers,
      command: displayCommand(args.map((a) => (a === outDir ? '$(mktemp -d)' : a))).replace("'$(mktemp -d)'", '"$(mktemp -d)"'),
      epochs: report.hyperParameters.epochs,
      trainSamples: report.data.trainSamples,
      testAccuracy: report.testAccuracy,
      trainingSeconds: report.trainingSeconds,
      wallSeconds: report.wallSeconds,
      samplesPerSecond: report.samplesPerSecond,
      params: report.params,
      history: report.history,
      logFile: relativeToRepo(logFile),
    };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
