// A CouchDB-API server for development and tests: pouchdb-server (a dev dependency) keeping everything in
// memory, so a restart starts empty, like a fresh CouchDB.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface CouchNode {
  readonly port: number;
  pid: number;
}

const REPO = resolve(import.meta.dir, '../..');

export function startCouch(runDir: string, node: CouchNode): void {
  // pouchdb-server writes config.json and log.txt into its working directory: keep them in the run dir.
  const dir = join(runDir, 'couchdb');
  mkdirSync(dir, { recursive: true });
  const out = openSync(join(dir, 'server.log'), 'a');
  const child = spawn(join(REPO, 'node_modules/.bin/pouchdb-server'), ['--in-memory', '--no-stdout-logs', '--host', '127.0.0.1', '--port', String(node.port)], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', out, out],
  });
  child.unref();
  if (child.pid === undefined) throw new Error('could not start pouchdb-server');
  node.pid = child.pid;
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
