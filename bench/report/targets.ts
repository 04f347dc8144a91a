// The two deployments the load tests hit: local mode (one process, on-disk store, in-memory transport)
// and cluster mode (a gateway and two consumers over Kafka, results in a CouchDB-API server), the
// services from ops/dev/services in a run directory of their own that is brought down afterwards.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Children } from './outcome.ts';
import { REPO, startStratus, waitReady } from './processes.ts';

export interface Target {
  readonly mode: 'local' | 'cluster';
  readonly url: string;
  /** The commands that started it, for the report. */
  readonly commands: string[];
  stop(): Promise<void>;
}

export async function startLocalTarget(children: Children, command: readonly string[], logDir: string): Promise<Target> {
  const dataDir = await mkdtemp(join(tmpdir(), 'stratus-eval-'));
  const stratus = startStratus(children, command, ['--data-dir', dataDir], join(logDir, 'local-stratus'));
  await waitReady(stratus.url, stratus.proc, 60_000);
  return {
    mode: 'local',
    url: stratus.url,
    commands: [stratus.command.replace(dataDir, '$(mktemp -d)')],
    stop: async () => {
      stratus.proc.kill('SIGTERM');
      await stratus.proc.exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const SERVICES = join(REPO, 'ops/dev/services');

/** Starts Kafka + the CouchDB-API server (own run dir), then 2 consumers and a gateway. */
export async function startClusterTarget(children: Children, command: readonly string[], logDir: string): Promise<Target> {
  const runDir = await mkdtemp(join(tmpdir(), 'stratus-eval-services-'));
  const env = { STRATUS_SERVICES_DIR: runDir };
  const services = (...args: string[]) =>
    children.spawn(['bash', SERVICES, ...args], { cwd: REPO, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: { ...process.env, ...env } });
  const down = async () => {
    await services('down').exited;
  };
  const up = services('up', '--owner-pid', String(process.pid));
  const [output, errors, code] = await Promise.all([new Response(up.stdout).text(), new Response(up.stderr).text(), up.exited]);
  if (code !== 0) {
    await down();
    throw new Error(`ops/dev/services up exited with ${code}: ${errors.trim().split('\n').at(-1) ?? ''}`);
  }
  const vars = new Map(output.split('\n').flatMap((line) => {
    const match = /^(?:export )?([A-Z_]+)=['"]?([^'"]*)['"]?$/.exec(line.trim());
    return match ? [[match[1] as string, match[2] as string] as const] : [];
  }));
  const brokers = vars.get('KAFKA_BROKERS');
  const couchdb = vars.get('COUCHDB_URL');
  if (!brokers || !couchdb) {
    await down();
    throw new Error('ops/dev/services up printed no KAFKA_BROKERS / COUCHDB_URL');
  }
  const clusterEnv = { KAFKA_BROKERS: brokers, COUCHDB_URL: couchdb };
  const flags = ['--transport', 'kafka', '--store', 'couchdb', '--couchdb-prefix', `eval_${Date.now()}_`];
  try {
    // Consumers first: the gateway is ready once a consumer has announced its model.
    const consumers = [0, 1].map((i) => startStratus(children, command, ['--role', 'consumer', ...flags], join(logDir, `cluster-consumer-${i}`), clusterEnv));
    const gateway = startStratus(children, command, ['--role', 'gateway', ...flags], join(logDir, 'cluster-gateway'), clusterEnv);
    const all = [gateway, ...consumers];
    await Promise.all(all.map((p) => waitReady(p.url, p.proc, 120_000)));
    return {
      mode: 'cluster',
      url: gateway.url,
      commands: ['eval "$(ops/dev/services up)"', ...consumers.map((c) => c.command), gateway.command],
      stop: async () => {
        for (const p of all) p.proc.kill('SIGTERM');
        await Promise.all(all.map((p) => p.proc.exited));
        await down();
      },
    };
  } catch (error) {
    await down();
    throw error;
  }
}
