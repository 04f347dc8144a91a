// A CouchDB-API server for tests: the one COUCHDB_URL names (CI's ops/dev/services), or a pouchdb-server
// (dev dependency) started here on a free loopback port. startPouchServer also lets a test kill the
// server and start it again on the same port, the way a restarted CouchDB comes back.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, REPO } from './process.ts';

const POUCHDB_SERVER = join(REPO, 'node_modules/.bin/pouchdb-server');

export interface CouchServer {
  readonly url: string;
  stop(): Promise<void>;
}

export interface PouchServer extends CouchServer {
  readonly port: number;
  /** SIGKILL, as a crash would: open connections are reset, new ones refused. */
  kill(): Promise<void>;
  /** Starts it again on the same port (and data directory); resolves once GET / answers. */
  start(): Promise<void>;
}

/** COUCHDB_URL from the environment if set, else a fresh in-memory pouchdb-server. */
export async function couchServer(): Promise<CouchServer> {
  const external = process.env.COUCHDB_URL;
  if (external) return { url: external.replace(/\/+$/, ''), stop: async () => {} };
  return startPouchServer({ inMemory: true });
}

/** `inMemory: false` keeps the databases in a temporary directory, so they survive kill() + start(). */
export async function startPouchServer(options: { inMemory: boolean }): Promise<PouchServer> {
  // pouchdb-server writes config.json and log.txt into its working directory, and databases too on disk.
  const workDir = await mkdtemp(join(tmpdir(), 'stratus-pouchdb-server-'));
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  let proc: Bun.Subprocess<'ignore', 'ignore', 'pipe'> | null = null;

  const start = async () => {
    const args = ['--host', '127.0.0.1', '--port', String(port), '--no-stdout-logs', ...(options.inMemory ? ['--in-memory'] : ['--dir', workDir])];
    const child = Bun.spawn([POUCHDB_SERVER, ...args], { cwd: workDir, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
    proc = child;
    // Node loading express-pouchdb takes 2–3 s on an idle machine, far longer on a busy one.
    const deadline = performance.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`pouchdb-server exited with ${child.exitCode}: ${await new Response(child.stderr).text()}`);
      if (await fetch(`${url}/`).then((r) => r.ok, () => false)) return;
      if (performance.now() > deadline) {
        await kill();
        throw new Error('pouchdb-server did not answer within 60 s');
      }
      await Bun.sleep(50);
    }
  };
  const kill = async () => {
    const child = proc;
    proc = null;
    if (!child) return;
    child.kill('SIGKILL');
    await child.exited;
  };

  try {
    await start();
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port,
    kill,
    start,
    async stop() {
      await kill();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
