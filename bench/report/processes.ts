// Starting Stratus (local or cluster mode) for an experiment and waiting until it is ready.
import { isAbsolute, relative } from 'node:path';
import { REPO, freePort } from '../../test/helpers/process.ts';
import type { Children } from './outcome.ts';

export { MAIN, REPO, freePort } from '../../test/helpers/process.ts';

export async function waitReady(url: string, proc: Bun.Subprocess, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${url}: the process exited with ${proc.exitCode} before it was ready`);
    if (await fetch(`${url}/v2/health/ready`).then((r) => r.ok, () => false)) return;
    if (performance.now() > deadline) throw new Error(`${url} not ready within ${Math.round(timeoutMs / 1000)} s`);
    await Bun.sleep(100);
  }
}

export interface StratusProcess {
  readonly url: string;
  readonly command: string;
  readonly proc: Bun.Subprocess;
}

/**
 * One Stratus process. `command` is the sources under this Bun, or a compiled binary. Its output goes to
 * `<logName>.out.log` / `.err.log` (a pipe nobody reads would fill up and block it): for debugging a run,
 * not part of the report, so git's *.log rule keeps them out of a commit.
 */
export function startStratus(children: Children, command: readonly string[], args: readonly string[], logName: string, env: Record<string, string> = {}): StratusProcess {
  const port = freePort();
  const full = [...command, '--port', String(port), '--log-level', 'warn', ...args];
  const proc = children.spawn(full, {
    cwd: REPO,
    stdin: 'ignore',
    stdout: Bun.file(`${logName}.out.log`),
    stderr: Bun.file(`${logName}.err.log`),
    env: { ...process.env, ...env },
  });
  return { url: `http://127.0.0.1:${port}`, command: displayCommand(full), proc };
}

/** A command as a reader would type it in the repository: `bun`, relative paths. */
export function displayCommand(words: readonly string[]): string {
  return words.map((w) => (w === process.execPath ? 'bun' : relativeToRepo(w))).map(shellWord).join(' ');
}

/** A command word as a shell would need it, for the commands the report prints. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Inside the repository or beside it (../shared/data): relative, as a reader would type it; else as is. */
export function relativeToRepo(path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(REPO, path);
  return rel.startsWith('../../') ? path : rel;
}
