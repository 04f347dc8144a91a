// The wrk load generator (Debian's `wrk`, C): a few µs of CPU per request where autocannon (Node) spends
// ~0.5 ms, which on a 2-core machine would take more CPU than the server it measures.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followProcessCpu } from './thread-cpu.ts';

export interface LoadResult {
  readonly rate: number;
  readonly ok: number;
  readonly errors: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  readonly clientCpuSeconds: number;
}

const luaString = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** POSTs the bodies in turn to `url` + /api/predict for `seconds`, over `connections` connections. */
export async function runWrk(url: string, connections: number, seconds: number, bodies: readonly string[]): Promise<LoadResult> {
  const script = join(tmpdir(), `stratus-wrk-${crypto.randomUUID()}.lua`);
  await Bun.write(
    script,
    [
      'wrk.method = "POST"',
      'wrk.headers["content-type"] = "application/json"',
      `local bodies = { ${bodies.map(luaString).join(',\n')} }`,
      'local next_body = 0',
      'request = function()',
      '  next_body = next_body % #bodies + 1',
      '  return wrk.format(nil, "/api/predict", nil, bodies[next_body])',
      'end',
    ].join('\n'),
  );
  const threads = Math.min(connections, 2);
  const proc = Bun.spawn(['wrk', '-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '30s', '--latency', '-s', script, url], {
    stdout: 'pipe',
    stderr: 'inherit',
  });
  const clientCpu = followProcessCpu(proc.pid);
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const clientCpuSeconds = clientCpu();
  await rm(script, { force: true });
  return parseWrk(out, clientCpuSeconds);
}

function parseWrk(out: string, clientCpuSeconds: number): LoadResult {
  const ms = (value: string, unit: string) => Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit] ?? NaN);
  const percentile = (p: string) => {
    const match = out.match(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)`, 'm'));
    return match ? ms(match[1] as string, match[2] as string) : NaN;
  };
  const max = out.match(/^\s*Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)/m);
  const total = Number(out.match(/(\d+) requests in/)?.[1] ?? 0);
  const non2xx = Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  const socket = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    rate: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? 0),
    ok: total - non2xx,
    errors: non2xx + socketErrors,
    latencyMs: { p50: percentile('50'), p90: percentile('90'), p99: percentile('99'), max: max ? ms(max[1] as string, max[2] as string) : NaN },
    clientCpuSeconds,
  };
}
