// The cluster-mode services for tests: a real Kafka and a CouchDB-API server. From the environment when it
// names them (KAFKA_BROKERS, COUCHDB_URL: .ci/run or `eval "$(ops/dev/services up)"`), else started here
// once per test process with ops/dev/services (Java from the machine, Kafka jars from Maven Central) and
// brought down when the process exits. A suite may be skipped only when neither is possible, loudly; with
// STRATUS_REQUIRE_CLUSTER=1 (CI) that is a failure instead.
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './process.ts';

export interface ClusterServices {
  readonly kafkaBrokers: readonly string[];
  readonly couchdbUrl: string;
  /** Runs ops/dev/services against these services (stop-broker 2, start-broker 2, restart-couchdb); null
   * when they came from the environment without STRATUS_SERVICES_DIR, so nobody here may touch them. */
  readonly control: ((...args: string[]) => Promise<void>) | null;
}

const SERVICES = join(REPO, 'ops/dev/services');
let located: Promise<ClusterServices | null> | null = null;

/** Resolves to the services, or null (after a loud warning) when none can be had on this machine. */
export function clusterServices(): Promise<ClusterServices | null> {
  located ??= locate();
  return located;
}

export async function kafkaBrokers(): Promise<readonly string[] | null> {
  return (await clusterServices())?.kafkaBrokers ?? null;
}

const required = () => process.env.STRATUS_REQUIRE_CLUSTER === '1';

function controlFor(runDir: string): (...args: string[]) => Promise<void> {
  return async (...args) => {
    const proc = Bun.spawn(['bash', SERVICES, ...args], { env: { ...process.env, STRATUS_SERVICES_DIR: runDir }, stdout: 'ignore', stderr: 'pipe' });
    if ((await proc.exited) !== 0) throw new Error(`ops/dev/services ${args.join(' ')} failed: ${await new Response(proc.stderr).text()}`);
  };
}

async function locate(): Promise<ClusterServices | null> {
  const brokers = process.env.KAFKA_BROKERS || process.env.STRATUS_KAFKA_BROKERS || undefined;
  const couchdb = process.env.COUCHDB_URL || undefined;
  if (brokers && couchdb) {
    const runDir = process.env.STRATUS_SERVICES_DIR;
    return { kafkaBrokers: brokers.split(','), couchdbUrl: couchdb, control: runDir ? controlFor(runDir) : null };
  }
  // Started beforehand (.ci/run) and named by their run dir only, so that KAFKA_BROKERS / COUCHDB_URL do not
  // leak into every `stratus` a test spawns (which would then turn to the cluster on its own).
  const shared = process.env.STRATUS_SERVICES_DIR;
  if (shared) {
    const proc = Bun.spawn(['bash', SERVICES, 'env'], { env: { ...process.env, STRATUS_SERVICES_DIR: shared }, stdout: 'pipe', stderr: 'ignore' });
    const [output, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    if (code === 0) return fromOutput(output, brokers, couchdb, controlFor(shared));
  }
  // Hook for machines with Docker (testcontainers) but no Java: start the same two services there.
  const missing = ['java', 'mvn'].filter((tool) => spawnSync(tool, ['-version'], { stdio: 'ignore' }).status !== 0);
  if (missing.length > 0) return unavailable(`${missing.join(' and ')} not installed`);
  const runDir = join(tmpdir(), `stratus-services-${process.pid}`);
  const env = { ...process.env, STRATUS_SERVICES_DIR: runDir };
  // --owner-pid: a watchdog brings them down even if this process is killed before its exit handler runs.
  const proc = Bun.spawn(['bash', SERVICES, 'up', '--owner-pid', String(process.pid)], { env, stdout: 'pipe', stderr: 'inherit' });
  const [output, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) return unavailable(`ops/dev/services up exited with ${code}`);
  process.once('exit', () => spawnSync('bash', [SERVICES, 'down'], { env, stdio: 'ignore' }));
  return fromOutput(output, brokers, couchdb, controlFor(runDir));
}

export interface PrivateCluster {
  readonly kafkaBrokers: readonly string[];
  readonly control: (...args: string[]) => Promise<void>;
  down(): Promise<void>;
}

/** A cluster of its own for a fault test (brokers stopped and started there disturb nobody else); null,
 * after the usual warning, where Java or Maven is missing. */
export async function startPrivateCluster(brokers: number): Promise<PrivateCluster | null> {
  const missing = ['java', 'mvn'].filter((tool) => spawnSync(tool, ['-version'], { stdio: 'ignore' }).status !== 0);
  if (missing.length > 0) return unavailable(`${missing.join(' and ')} not installed`);
  const runDir = join(tmpdir(), `stratus-services-${process.pid}-${brokers}b-${Date.now()}`);
  const env = { ...process.env, STRATUS_SERVICES_DIR: runDir };
  const proc = Bun.spawn(['bash', SERVICES, 'up', '--brokers', String(brokers), '--owner-pid', String(process.pid)], { env, stdout: 'pipe', stderr: 'inherit' });
  const [output, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) throw new Error(`ops/dev/services up --brokers ${brokers} exited with ${code}`);
  const control = controlFor(runDir);
  return { kafkaBrokers: fromOutput(output, undefined, undefined, control).kafkaBrokers, control, down: () => control('down') };
}

/** Parses `ops/dev/services up|env` output; variables already set in the environment win. */
function fromOutput(output: string, brokers: string | undefined, couchdb: string | undefined, control: ClusterServices['control']): ClusterServices {
  const vars = new Map(output.split('\n').filter((line) => /^[A-Z_]+=/.test(line)).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  return {
    kafkaBrokers: (brokers ?? vars.get('KAFKA_BROKERS') ?? '').split(','),
    couchdbUrl: couchdb ?? vars.get('COUCHDB_URL') ?? '',
    control,
  };
}

function unavailable(why: string): null {
  const message = `cluster services unavailable (${why}): the Kafka/CouchDB suites are SKIPPED`;
  if (required()) throw new Error(`${message}, but STRATUS_REQUIRE_CLUSTER=1`);
  process.stderr.write(`\n${'!'.repeat(100)}\n!!! ${message}\n${'!'.repeat(100)}\n\n`);
  return null;
}
