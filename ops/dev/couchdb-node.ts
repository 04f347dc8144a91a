// A CouchDB-API server for development and tests: pouchdb-server (a dev dependency) keeping everything in
// memory, so a restart starts empty, like a fresh CouchDB.
//
// Tuned for the CPU it spends per stored result (bench/couch-store.ts measures it), without changing
// what a client sees of the CouchDB API that Stratus uses:
// - config.json: log level `warning` ([log] level, as in CouchDB's own config) instead of a line per
//   request, and `no-stdout-logs` set there because pouchdb-server's `--no-stdout-logs` flag is lost
//   by its argument parser (it reads it as `--stdout-logs=false`), so it tailed its own log file
//   and printed every line again.
// - express-pouchdb without `validation` (every document of a _bulk_docs ran its own _all_docs query
//   for validate_doc_update design documents; Stratus's only ones are write rules for roles with users
//   of their own, and this server has only its admin party) and `disk-size` (every request's
//   session check asked the _users database for its size, walking the data directory).
// - Node's young generation larger and GC on the main thread only: fewer scavenges, no helper threads.
// Measured with pouchdb-server 4.2.0 (bench/couch-store.ts --no-sessions --batch 16 --stores 2): with
// Accept-Encoding identity on the client's side (couch-client.ts), 16-document _bulk_docs went from
// ~490 to ~270 µs of server CPU per document. validate_doc_update is not enforced here; CouchDB does.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface CouchNode {
  readonly port: number;
  pid: number;
}

const REPO = resolve(import.meta.dir, '../..');
const NODE_FLAGS = ['--max-semi-space-size=32', '--single-threaded-gc'];
const EXCLUDED_PARTS = ['validation', 'disk-size'];

// Runs pouchdb-server's own entry point (its flags, config.json, logging) after wrapping express-pouchdb,
// which pouchdb-server calls without a way to pass `overrideMode`: the wrapper adds it.
const LAUNCHER = `
const { createRequire } = require('node:module');
const entry = process.env.STRATUS_POUCHDB_SERVER;
const fromServer = createRequire(entry);
const path = fromServer.resolve('express-pouchdb');
const expressPouchDB = fromServer('express-pouchdb');
const exclude = JSON.parse(process.env.STRATUS_POUCHDB_EXCLUDE);
require.cache[path].exports = (opts) => expressPouchDB({ ...opts, overrideMode: { include: [], exclude } });
fromServer(entry);
`;

/** `dataDir`: keep the databases there, on disk (bench/store-scale.ts), instead of in memory. */
export function startCouch(runDir: string, node: CouchNode, dataDir?: string): void {
  // pouchdb-server writes config.json and log.txt into its working directory: keep them in the run dir.
  const dir = join(runDir, 'couchdb');
  mkdirSync(dir, { recursive: true });
  writeConfig(join(dir, 'config.json'));
  const out = openSync(join(dir, 'server.log'), 'a');
  const args = [...(dataDir === undefined ? ['--in-memory'] : ['--dir', dataDir]), '--host', '127.0.0.1', '--port', String(node.port)];
  // `node -e` leaves argv[1] out; pouchdb-server's parser skips two entries, so one stands in for it.
  const child = spawn('node', [...NODE_FLAGS, '-e', LAUNCHER, 'pouchdb-server', ...args], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      STRATUS_POUCHDB_SERVER: join(REPO, 'node_modules/pouchdb-server/lib/index.js'),
      STRATUS_POUCHDB_EXCLUDE: JSON.stringify(EXCLUDED_PARTS),
    },
  });
  child.unref();
  if (child.pid === undefined) throw new Error('could not start pouchdb-server');
  node.pid = child.pid;
}

/** Keeps what an earlier run wrote (its uuid) and sets the logging this file's header explains. */
function writeConfig(path: string): void {
  const config = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>) : {};
  config.log = { ...config.log, level: 'warning' };
  config.pouchdb_server = { ...config.pouchdb_server, 'no-stdout-logs': true };
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
}

export async function waitForCouch(node: CouchNode, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${node.port}/`);
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await Bun.sleep(100);
  }
  throw new Error(`couchdb not ready within ${timeoutMs} ms: ${last}`);
}
