// Run Stratus as a separate process, the way a user or Kubernetes does.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from './wait.ts';

export const REPO = resolve(import.meta.dir, '../..');
export const MAIN = resolve(REPO, 'src/main.ts');

export function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() });
  const port = server.port as number;
  server.stop(true);
  return port;
}

export interface Started {
  readonly url: string;
  readonly proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>;
  /** Milliseconds from spawn to the first 200 from /v2/health/ready. */
  readonly readyAfterMs: number;
}

// What points a process at cluster services or configures it behind the flags' back: a developer's
// `eval "$(ops/dev/services up)"` or CI's settings must not change what a spawned process does.
const INHERITED_NOT = /^(STRATUS_|KAFKA_BROKERS$|COUCHDB_(URL|USER|PASSWORD)$)/;

/** The environment a spawned process gets: this one without the variables above, plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !INHERITED_NOT.test(name)) env[name] = value;
  return { ...env, ...extra };
}

export interface StartOptions {
  readonly cwd?: string;
  /** Variables the process gets on top of childEnv(). */
  readonly env?: Record<string, string>;
  /** How long to wait for the first 200 from /v2/health/ready. */
  readonly readyTimeoutMs?: number;
}

/** `command` is e.g. ['bun', MAIN] or ['/tmp/x/stratus']. */
export async function startProcess(command: string[], args: string[], options: StartOptions = {}): Promise<Started> {
  const port = freePort();
  const started = performance.now();
  const proc = Bun.spawn([...command, '--port', String(port), ...args], {
    cwd: options.cwd ?? REPO,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    env: childEnv({ STRATUS_LOG_LEVEL: 'warn', ...options.env }),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode}: ${await new Response(proc.stderr).text()}`);
    return fetch(`${url}/v2/health/ready`).then((r) => r.ok, () => false);
  }, options.readyTimeoutMs ?? 15_000, 5);
  return { url, proc, readyAfterMs: performance.now() - started };
}

export async function runToEnd(command: string[], options: Omit<StartOptions, 'readyTimeoutMs'> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(command, { cwd: options.cwd ?? REPO, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: childEnv(options.env) });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** A tool run to its end that must succeed (openssl, java): its output is the error when it does not. */
export function runOrThrow(command: string, args: string[], what: string): void {
  const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${what} failed: ${result.stderr || result.stdout}`);
}
