// The services CLI behind ops/dev/services. stdout carries only `NAME=value` lines (for eval); the rest
// goes to stderr. State (ports, pids) lives in the run dir: $STRATUS_SERVICES_DIR or <repo>/.tmp/services.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { startCouch, waitForCouch, type CouchNode } from './couchdb-node.ts';
import { alive, fetchKafka, formatCluster, isBroker, quorumLeader, startNode, waitForBrokers, waitForListener, type KafkaNode } from './kafka-node.ts';

interface State {
  readonly brokers: KafkaNode[];
  /** The quorum's own nodes; none when each broker is a controller too. */
  readonly controllers: KafkaNode[];
  readonly couchdb: CouchNode;
}

/** Controller ids start here, so that `stop-broker 2` can only ever mean a broker. */
const FIRST_CONTROLLER_ID = 101;

/** The quorum a cluster of `brokers` gets unless told: three controllers of its own from three brokers up
 * (Kafka's advice for production), so that a broker crash never takes the quorum's leader with it (the new
 * leader's election would come first, and only then could the dead broker be fenced: about 2 s more on
 * this machine, docs/cluster.md); below that, each broker is a controller too (0). */
const defaultControllers = (brokers: number) => (brokers >= 3 ? 3 : 0);

/** The nodes for `brokerCount` brokers and `controllerCount` controllers (0: the brokers are the quorum),
 * on the ports given, in order. */
function layout(brokerCount: number, controllerCount: number, ports: readonly number[]): Pick<State, 'brokers' | 'controllers'> {
  const next = ports[Symbol.iterator]();
  const port = () => next.next().value as number;
  const combined = controllerCount === 0;
  const brokers: KafkaNode[] = Array.from({ length: brokerCount }, (_, i) => ({ id: i + 1, roles: combined ? 'broker,controller' : 'broker', port: port(), controllerPort: combined ? port() : 0, pid: 0 }));
  const controllers: KafkaNode[] = Array.from({ length: controllerCount }, (_, i) => ({ id: FIRST_CONTROLLER_ID + i, roles: 'controller', port: 0, controllerPort: port(), pid: 0 }));
  return { brokers, controllers };
}

const portsNeeded = (brokerCount: number, controllerCount: number) => (controllerCount === 0 ? brokerCount * 2 : brokerCount + controllerCount) + 1;
const kafkaNodes = (state: State) => [...state.brokers, ...state.controllers];

const REPO = resolve(import.meta.dir, '../..');
const RUN_DIR = resolve(process.env.STRATUS_SERVICES_DIR ?? join(REPO, '.tmp', 'services'));
const STATE = join(RUN_DIR, 'state.json');
const USAGE = 'usage: ops/dev/services up [--brokers N] [--controllers N] [--owner-pid PID] | env | down | fetch | status | stop-broker ID|all [--kill] | start-broker ID|all | stop-controller ID|leader|all [--kill] | start-controller ID|all | restart-couchdb';

const log = (line: string) => process.stderr.write(`services: ${line}\n`);

/** The state file; one written before controllers of their own existed has no `controllers`: none then. */
function readState(): State | null {
  if (!existsSync(STATE)) return null;
  const state = JSON.parse(readFileSync(STATE, 'utf8')) as Omit<State, 'controllers'> & Partial<Pick<State, 'controllers'>>;
  return { ...state, controllers: state.controllers ?? [] };
}
const writeState = (state: State) => writeFileSync(STATE, JSON.stringify(state, null, 2));

function printEnv(state: State): void {
  process.stdout.write(`KAFKA_BROKERS=${state.brokers.map((b) => `127.0.0.1:${b.port}`).join(',')}\n`);
  process.stdout.write(`COUCHDB_URL=http://127.0.0.1:${state.couchdb.port}\n`);
  // So that `eval "$(ops/dev/services up)"` reaches the commands run next (npm test), not just this shell.
  process.stdout.write('export KAFKA_BROKERS COUCHDB_URL\n');
}

/** Free loopback ports, all held open until every one is chosen so none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    servers.push(server);
    ports.push((server.address() as { port: number }).port);
  }
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return ports;
}

async function stopPid(pid: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await Bun.sleep(50);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  while (alive(pid)) await Bun.sleep(20);
}

async function up(brokerCount: number, controllerCount: number, ownerPid: number | null): Promise<void> {
  const existing = readState();
  if (existing) {
    const running = [...kafkaNodes(existing).map((b) => b.pid), existing.couchdb.pid].every(alive);
    if (running && existing.brokers.length === brokerCount && existing.controllers.length === controllerCount) {
      log(`already up in ${RUN_DIR}`);
      printEnv(existing);
      return;
    }
    log('stale or differently sized services: replacing them');
    await down();
  }
  const started = performance.now();
  fetchKafka();
  // The ports are free when chosen, but another process (a second `up` beside this one, say) may take one
  // before the JVM binds it; that node then exits at once, and a fresh set of ports is tried.
  for (let attempt = 1; ; attempt++) {
    mkdirSync(RUN_DIR, { recursive: true });
    const ports = await freePorts(portsNeeded(brokerCount, controllerCount));
    const { brokers, controllers } = layout(brokerCount, controllerCount, ports);
    const couchdb: CouchNode = { port: ports.at(-1)!, pid: 0 };
    const state: State = { brokers, controllers, couchdb };
    try {
      formatCluster(RUN_DIR, kafkaNodes(state));
      for (const node of kafkaNodes(state)) startNode(RUN_DIR, node);
      startCouch(RUN_DIR, couchdb);
      writeState(state);
      if (ownerPid !== null && attempt === 1) watchOwner(ownerPid);
      await untilOneExits(state, Promise.all([waitForBrokers(brokers, brokers.map((b) => b.id)), waitForCouch(couchdb)]));
    } catch (error) {
      await down();
      if (error instanceof ExitedAtStart && attempt < START_ATTEMPTS) {
        log(`${error.message}; trying again with other ports`);
        continue;
      }
      throw error;
    }
    const quorum = controllerCount === 0 ? 'each also a controller' : `${controllerCount} controller(s) of their own`;
    log(`up in ${((performance.now() - started) / 1000).toFixed(1)} s: ${brokerCount} Kafka broker(s), ${quorum}; CouchDB; state in ${RUN_DIR}`);
    printEnv(state);
    return;
  }
}

const START_ATTEMPTS = 3;

class ExitedAtStart extends Error {}

/** `ready`, unless a node of `state` exits first: then an ExitedAtStart naming it, at once rather than
 * after the readiness wait's full minute. */
async function untilOneExits(state: State, ready: Promise<unknown>): Promise<void> {
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const dead = kafkaNodes(state).find((b) => !alive(b.pid));
      if (dead) throw new ExitedAtStart(`kafka-${dead.id} exited while starting (port ${[dead.port, dead.controllerPort].filter(Boolean).join(' or ')} taken?)`);
      if (!alive(state.couchdb.pid)) throw new ExitedAtStart(`couchdb exited while starting (port ${state.couchdb.port} taken?)`);
      await Bun.sleep(200);
    }
  })();
  try {
    await Promise.race([ready, watch]);
  } finally {
    watching = false;
  }
}

/** A detached shell that brings the services down once `ownerPid` is gone, e.g. a test run killed by ^C. */
function watchOwner(ownerPid: number): void {
  const script = `while kill -0 ${ownerPid} 2>/dev/null; do sleep 1; done; exec bash "$0" down`;
  const child = spawn('bash', ['-c', script, join(import.meta.dir, 'services')], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, STRATUS_SERVICES_DIR: RUN_DIR },
  });
  child.unref();
}

async function down(): Promise<void> {
  const state = readState();
  if (state) {
    // Nothing in a dev cluster is worth a graceful shutdown: SIGKILL right away keeps `down` instant.
    await Promise.all([...kafkaNodes(state).map((b) => b.pid), state.couchdb.pid].filter((pid) => pid > 0).map((pid) => stopPid(pid, 'SIGKILL', 0)));
  }
  rmSync(RUN_DIR, { recursive: true, force: true });
  log(`down (${RUN_DIR} removed)`);
}

function mustState(): State {
  const state = readState();
  if (!state) throw new Error(`services are not up (no ${STATE})`);
  return state;
}

/** The nodes `raw` names among the brokers or the controllers: an id, `all`, or for controllers `leader`
 * (the quorum's, at the moment). */
function nodesNamed(state: State, kind: 'broker' | 'controller', raw: string | undefined): KafkaNode[] {
  const nodes = kind === 'broker' ? state.brokers : state.controllers;
  if (nodes.length === 0) throw new Error(`no ${kind}s of their own here (each broker is a controller too)`);
  if (raw === 'all') return nodes;
  if (raw === 'leader' && kind === 'controller') return [quorumLeader(RUN_DIR, nodes.filter((node) => alive(node.pid)))];
  const node = nodes.find((b) => String(b.id) === raw);
  if (!node) throw new Error(`no ${kind} '${raw}'; ids are ${nodes.map((b) => b.id).join(', ')}${kind === 'controller' ? ', leader' : ''}, all`);
  return [node];
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const flag = (name: string) => {
    const at = rest.indexOf(name);
    return at === -1 ? undefined : rest[at + 1];
  };
  switch (command) {
    case 'up': {
      const count = Number(flag('--brokers') ?? '1');
      if (!Number.isInteger(count) || count < 1 || count > 5) throw new Error('--brokers must be 1..5');
      const controllers = Number(flag('--controllers') ?? defaultControllers(count));
      if (![0, 1, 3, 5].includes(controllers)) throw new Error('--controllers must be 0 (each broker a controller too), 1, 3 or 5');
      const owner = flag('--owner-pid');
      return up(count, controllers, owner === undefined ? null : Number(owner));
    }
    case 'env':
      return printEnv(mustState());
    case 'down':
      return down();
    case 'fetch':
      log(`jars in ${fetchKafka()}`);
      return;
    case 'status': {
      const state = mustState();
      for (const b of kafkaNodes(state)) log(`kafka-${b.id} (${b.roles}) 127.0.0.1:${b.port || b.controllerPort} pid ${b.pid} ${alive(b.pid) ? 'running' : 'stopped'}`);
      log(`couchdb 127.0.0.1:${state.couchdb.port} pid ${state.couchdb.pid} ${alive(state.couchdb.pid) ? 'running' : 'stopped'}`);
      return;
    }
    case 'stop-broker':
    case 'stop-controller': {
      const state = mustState();
      for (const node of nodesNamed(state, command === 'stop-broker' ? 'broker' : 'controller', rest[0])) {
        // SIGTERM is a controlled shutdown (leadership moves first); --kill is a crash.
        await stopPid(node.pid, rest.includes('--kill') ? 'SIGKILL' : 'SIGTERM', 30_000);
        log(`kafka-${node.id} stopped`);
      }
      return;
    }
    case 'start-broker':
    case 'start-controller': {
      const state = mustState();
      const nodes = nodesNamed(state, command === 'start-broker' ? 'broker' : 'controller', rest[0]);
      for (const node of nodes) if (!alive(node.pid)) startNode(RUN_DIR, node);
      writeState(state);
      await Promise.all(nodes.map((node) => (isBroker(node) ? waitForBrokers([node], [node.id]) : waitForListener(node.controllerPort))));
      log(`${nodes.map((node) => `kafka-${node.id}`).join(', ')} running`);
      return;
    }
    case 'restart-couchdb': {
      const state = mustState();
      await stopPid(state.couchdb.pid, 'SIGTERM', 5_000);
      startCouch(RUN_DIR, state.couchdb);
      writeState(state);
      await waitForCouch(state.couchdb);
      log('couchdb restarted (empty: it keeps everything in memory)');
      return;
    }
    default:
      throw new Error(USAGE);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    log(error instanceof Error ? error.message : String(error));
    process.exit(command(process.argv[2]) ? 1 : 2);
  },
);

function command(name: string | undefined): boolean {
  return ['up', 'env', 'down', 'fetch', 'status', 'stop-broker', 'start-broker', 'stop-controller', 'start-controller', 'restart-couchdb'].includes(name ?? '');
}
