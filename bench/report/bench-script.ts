// One of the repository's own benches (bench/*.ts) run for the report: as a child process in a process
// group of its own (a budget that runs out stops its servers, brokers and load generators too), with
// `--json FILE` for its results. Its printed output stays in the raw directory beside that file.
import { join } from 'node:path';
import type { Children } from './outcome.ts';
import { displayCommand, REPO, relativeToRepo } from './processes.ts';

export interface BenchRun<T> {
  /** Exactly what ran, as a reader would type it (without --json). */
  readonly command: string;
  readonly value: T;
  /** Non-zero when some of its runs failed: the results it wrote still stand, the note says why. */
  readonly exitCode: number;
  readonly note?: string;
  /** Its printed output and its JSON, relative to the repository. */
  readonly files: readonly string[];
}

export async function runBenchScript<T>(children: Children, script: string, args: readonly string[], rawDir: string, name: string): Promise<BenchRun<T>> {
  const jsonFile = join(rawDir, `${name}.json`);
  const outputFile = join(rawDir, `${name}-output.txt`);
  const command = [process.execPath, 'run', script, ...args];
  const proc = children.spawn([...command, '--json', jsonFile], { cwd: REPO, stdin: 'ignore', stdout: Bun.file(outputFile), stderr: 'pipe', detached: true });
  const [stderr, exitCode] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  await Bun.write(join(rawDir, `${name}-stderr.txt`), stderr);
  const lastLine = (stderr.trim() || (await Bun.file(outputFile).text()).trim()).split('\n').at(-1) ?? '';
  const written = await Bun.file(jsonFile).json().catch(() => null);
  if (written === null) throw new Error(`${script} exited with ${exitCode} and wrote no results: ${lastLine}`);
  return {
    command: displayCommand(command),
    value: written as T,
    exitCode,
    ...(exitCode === 0 ? {} : { note: `exited with ${exitCode}: ${lastLine}` }),
    files: [outputFile, jsonFile].map(relativeToRepo),
  };
}
