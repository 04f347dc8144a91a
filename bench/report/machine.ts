// What the report ran on: hardware, OS, tool versions, the code's commit, and how busy the machine was
// (the figures of a shared 2-core machine mean little without its load average).
import { cpus, loadavg, release, totalmem } from 'node:os';
import { REPO } from './processes.ts';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly kernel: string;
  readonly bun: string;
  readonly locust: string;
  readonly python: string;
  readonly commit: string;
  /** Files changed since the commit (a run from a dirty tree says so). */
  readonly uncommittedChanges: number;
  readonly loadAverageAtStart: readonly number[];
}

function run(command: string[]): string {
  try {
    const result = Bun.spawnSync(command, { cwd: REPO, stdout: 'pipe', stderr: 'pipe' });
    return result.exitCode === 0 ? result.stdout.toString().trim() : '';
  } catch {
    return '';
  }
}

export async function describeMachine(): Promise<Machine> {
  const osRelease = await Bun.file('/etc/os-release').text().catch(() => '');
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? 'unknown',
    kernel: release(),
    bun: Bun.version,
    // Debian's locust --version prints no number; the package's version is the honest one.
    locust: run(['dpkg-query', '-W', '-f', '${Version}', 'python3-locust']) || run(['/usr/bin/python3', '-c', 'import locust; print(locust.__version__)']) || 'not installed',
    python: run(['/usr/bin/python3', '--version']) || 'unknown',
    commit: run(['git', 'rev-parse', '--short', 'HEAD']) || 'unknown',
    uncommittedChanges: run(['git', 'status', '--porcelain', '--untracked-files=no']).split('\n').filter(Boolean).length,
    loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}
