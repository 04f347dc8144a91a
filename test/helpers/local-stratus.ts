// A whole local-mode Stratus in this process, on a free port, with a throwaway store.
import { parseCli, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startRuntime, type Running, type RuntimeOverrides } from '../../src/runtime.ts';
import { waitFor } from './wait.ts';

/** `env`: the environment the flags are read with (STRATUS_ADMIN_TOKEN, say); none by default. */
export async function startLocal(flags: string[] = [], overrides: RuntimeOverrides = {}, env: Record<string, string> = {}): Promise<Running & { url: string; config: Config }> {
  const action = parseCli(['--port', '0', '--store', 'memory', '--log-level', 'silent', ...flags], env);
  if (action.kind !== 'run') throw new Error('unexpected CLI action');
  const running = await startRuntime(action.config, createLogger(action.config.logLevel), overrides);
  const { url } = running;
  if (url === null) throw new Error('a serving role always listens');
  await waitFor(async () => (await fetch(`${url}/v2/health/ready`)).ok, 10_000);
  return { ...running, url, config: action.config };
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
