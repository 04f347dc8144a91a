// `docker-compose config` on compose.yaml with exactly the variables a test gives: none from this
// process's environment, nor from a developer's .env beside compose.yaml (an empty --env-file stands in).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './process.ts';

/** The docker-compose CI installs (1.29 from Debian), or null where there is none: the tests that render
 * compose.yaml skip there, except where STRATUS_REQUIRE_OPS_TOOLS=1 (CI), which must have it. */
export const dockerCompose = Bun.which('docker-compose');
if (dockerCompose === null && process.env.STRATUS_REQUIRE_OPS_TOOLS === '1') throw new Error('docker-compose is not installed');

export async function renderCompose(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  if (dockerCompose === null) throw new Error('docker-compose is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'stratus-compose-env-'));
  try {
    const noEnvFile = join(dir, 'empty.env');
    writeFileSync(noEnvFile, '');
    const proc = Bun.spawn([dockerCompose, '--env-file', noEnvFile, '-f', join(REPO, 'compose.yaml'), 'config'], { cwd: REPO, env: { PATH: process.env.PATH!, ...env }, stdout: 'pipe', stderr: 'pipe' });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
