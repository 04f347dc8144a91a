// The cluster-mode services for tests: a real Kafka and a CouchDB-API server. In this order: from the
// environment when it names them (KAFKA_BROKERS, COUCHDB_URL, or STRATUS_SERVICES_DIR: .ci/run or
// `eval "$(ops/dev/services up)"`); else in containers where a Docker engine answers (the official images,
// testcontainers-services.ts; STRATUS_TESTCONTAINERS=0 skips this); else started here once per test
// process with ops/dev/services (Java from the machine, Kafka jars from Maven Central) and brought down when
// the process exits. A suite may be skipped only when none is possible, loudly; with
// STRATUS_REQUIRE_CLUSTER=1 (CI) that is a failure instead.
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './process.ts';
import { probeContainerRuntime, startContainerServices, type ContainerServices } from './testcontainers-services.ts';

export type ServicesSource = 'environment' | 'services-dir' | 'containers' | 'jars';

export interface ClusterServices {
  readonly kafkaBrokers: readonly string[];
  readonly couchdbUrl: string;
  /** Runs ops/dev/services' actions against these services (stop-broker 2, start-broker 2, restart-couchdb),
   * on containers too; null when they came from the environment without STRATUS_SERVICES_DIR, so nobody
   * here may touch them. */
  readonly control: ((...args: string[]) => Promise<void>) | null;
  readonly source: ServicesSource;
}

const SERVICES = join(REPO, 'ops/dev/services');
let located: Promise<ClusterServices | null> | null = null;

/** Resolves to the services, or null (after a loud warning) when none can be had on this machine. */
export function clusterServices(): Promise<ClusterServices | null> {
  located ??= locateClusterServices();
  return located;
}

export async function kafkaBrokers(): Promise<readonly string[] | null> {
  return (await clusterServices())?.kafkaBrokers ?? null;
}

const required = (env: NodeJS.ProcessEnv) => env.STRATUS_REQUIRE_CLUSTER === '1';

function controlFor(runDir: string): (...args: string[]) => Promise<void> {
  return async (...args) => {
    const proc = Bun.spawn(['bash', SERVICES, ...args], { env: { ...process.env, STRATUS_SERVICES_DIR: runDir }, stdout: 'ignore', stderr: 'pipe' });
    if ((await proc.exited) !== 0) throw new Error(`ops/dev/services ${args.join(' ')} failed: ${await new Response(proc.stderr).text()}`);
  };
}

/** Finds or starts the services (in the order above); null after the loud warning when none can be had. */
export async function locateClusterServices(env: NodeJS.ProcessEnv = process.env): Promise<ClusterServices | null> {
  const brokers = env.KAFKA_BROKERS || env.STRATUS_KAFKA_BROKERS || undefined;
  const couchdb = env.COUCHDB_URL || undefined;
  if (brokers && couchdb) {
    const runDir = env.STRATUS_SERVICES_DIR;
    return { kafkaBrokers: brokers.split(','), couchdbUrl: couchdb, control: runDir ? controlFor(runDir) : null, source: 'environment' };
  }
  // Started beforehand (.ci/run) and named by their run dir only, so that KAFKA_BROKERS / COUCHDB_URL do not
  // leak into every `stratus` a test spawns (which would then turn to the cluster on its own).
  const shared = env.STRATUS_SERVICES_DIR;
  if (shared) {
    const proc = Bun.spawn(['bash', SERVICES, 'env'], { env: { ...env, STRATUS_SERVICES_DIR: shared }, stdout: 'pipe', stderr: 'ignore' });
    const [output, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    if (code === 0) return fromOutput(output, brokers, couchdb, controlFor(shared), 'services-dir');
  }
  const containers = await fromContainers(env, { brokers: 1, couchdb: true });
  if (typeof containers !== 'string') {
    return { kafkaBrokers: containers.kafkaBrokers, couchdbUrl: containers.couchdbUrl ?? '', control: containers.control, source: 'containers' };
  }
  const missing = missingTools(env);
  if (missing) return unavailable(`${containers}; ${missing}`, env);
  const runDir = join(tmpdir(), `stratus-services-${process.pid}`);
  const runEnv = { ...env, STRATUS_SERVICES_DIR: runDir };
  // --owner-pid: a watchdog brings them down even if this process is killed before its exit handler runs.
  const proc = Bun.spawn(['bash', SERVICES, 'up', '--owner-pid', String(process.pid)], { env: runEnv, stdout: 'pipe', stderr: 'inherit' });
  const [output, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) return unavailable(`ops/dev/services up exited with ${code}`, env);
  process.once('exit', () => spawnSync('bash', [SERVICES, 'down'], { env: runEnv, stdio: 'ignore' }));
  return fromOutput(output, brokers, couchdb, controlFor(runDir), 'jars');
}

/** Containers when a Docker engine answers the probe, else why not (said on stderr: the jars come next).
 * Only the engine's absence is quick to find; a failed start (no registry, say) also falls through. */
async function fromContainers(env: NodeJS.ProcessEnv, options: { brokers: number; couchdb: boolean }): Promise<ContainerServices | string> {
  const fallThrough = (why: string) => {
    process.stderr.write(`cluster services: ${why}: trying the Kafka jars (ops/dev/services) next\n`);
    return why;
  };
  if (env.STRATUS_TESTCONTAINERS === '0') return fallThrough('containers turned off (STRATUS_TESTCONTAINERS=0)');
  const runtime = await probeContainerRuntime();
  if (!runtime.available) return fallThrough(`no Docker engine (${runtime.reason}; ${runtime.ms} ms)`);
  process.stderr.write(`cluster services: starting ${options.brokers} Kafka container(s)${options.couchdb ? ' and CouchDB' : ''} on ${runtime.host}\n`);
  try {
    return await startContainerServices(options);
  } catch (error) {
    return fallThrough(`containers did not start on ${runtime.host} (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** What the jar path lacks on this machine ("java and mvn not installed"), or null. */
export function missingTools(env: NodeJS.ProcessEnv): string | null {
  const missing = ['java', 'mvn'].filter((tool) => spawnSync(tool, ['-version'], { stdio: 'ignore', env }).status !== 0);
  return missing.length > 0 ? `${missing.join(' and ')} not installed` : null;
}

export interface PrivateCluster {
  readonly kafkaBrokers: readonly string[];
  readonly control: (...args: string[]) => Promise<void>;
  /** Whether its metadata quorum is three controllers of their own, fencing a dead broker after 1 s (the
   * jars, from three brokers up: ops/dev/services.ts), or the brokers themselves after 3 s (containers). */
  readonly controllersOfTheirOwn: boolean;
  down(): Promise<void>;
}

/** A cluster of its own for a fault test (brokers stopped and started there disturb nobody else): in
 * containers where a Docker engine answers, else from the jars; null, after the usual warning, where
 * neither is possible. */
export async function startPrivateCluster(brokers: number): Promise<PrivateCluster | null> {
  const containers = await fromContainers(process.env, { brokers, couchdb: false });
  if (typeof containers !== 'string') return { kafkaBrokers: containers.kafkaBrokers, control: containers.control, down: containers.down, controllersOfTheirOwn: false };
  const missing = missingTools(process.env);
  if (missing) return unavailable(`${containers}; ${missing}`, process.env);
  const runDir = join(tmpdir(), `stratus-services-${process.pid}-${brokers}b-${Date.now()}`);
  const env = { ...process.env, STRATUS_SERVICES_DIR: runDir };
  const proc = Bun.spawn(['bash', SERVICES, 'up', '--brokers', String(brokers), '--owner-pid', String(process.pid)], { env, stdout: 'pipe', stderr: 'inherit' });
  const [output, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) throw new Error(`ops/dev/services up --brokers ${brokers} exited with ${code}`);
  const control = controlFor(runDir);
  return { kafkaBrokers: fromOutput(output, undefined, undefined, control, 'jars').kafkaBrokers, control, down: () => control('down'), controllersOfTheirOwn: brokers >= 3 };
}

/** Parses `ops/dev/services up|env` output; variables already set in the environment win. */
function fromOutput(output: string, brokers: string | undefined, couchdb: string | undefined, control: ClusterServices['control'], source: ServicesSource): ClusterServices {
  const vars = new Map(output.split('\n').filter((line) => /^[A-Z_]+=/.test(line)).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  return {
    kafkaBrokers: (brokers ?? vars.get('KAFKA_BROKERS') ?? '').split(','),
    couchdbUrl: couchdb ?? vars.get('COUCHDB_URL') ?? '',
    control,
    source,
  };
}

/** The loud skip (null), or with STRATUS_REQUIRE_CLUSTER=1 the failure; for every launcher of test brokers. */
export function unavailable(why: string, env: NodeJS.ProcessEnv): null {
  const message = `cluster services unavailable (${why}): the Kafka/CouchDB suites are SKIPPED`;
  if (required(env)) throw new Error(`${message}, but STRATUS_REQUIRE_CLUSTER=1`);
  process.stderr.write(`\n${'!'.repeat(100)}\n!!! ${message}\n${'!'.repeat(100)}\n\n`);
  return null;
}
