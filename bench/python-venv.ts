// The Python peers' virtual environments under .tmp/, made from PyPI: pip runs when a venv is new, or when
// its pinned requirements changed since (a copy of the file the venv was made from is kept inside it).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const REPO = resolve(import.meta.dir, '..');

/** The venv's interpreter, ready. `venv` and `requirements` are relative to the repository. */
export async function pythonVenv(venv: string, requirements: string): Promise<string> {
  const dir = resolve(REPO, venv);
  const file = resolve(REPO, requirements);
  const python = join(dir, 'bin/python');
  const stamp = join(dir, 'stratus-requirements.txt');
  const wanted = readFileSync(file, 'utf8');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return python;
  console.log(`installing ${relative(REPO, file)} into ${relative(REPO, dir)} (once)`);
  if (!existsSync(python)) await mustSucceed([Bun.which('python3.11') ?? 'python3', '-m', 'venv', dir]);
  await mustSucceed([python, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', file]);
  writeFileSync(stamp, wanted);
  return python;
}

async function mustSucceed(command: string[]): Promise<void> {
  const code = await Bun.spawn(command, { stdout: 'inherit', stderr: 'inherit' }).exited;
  if (code !== 0) throw new Error(`${command.join(' ')} exited ${code}`);
}
