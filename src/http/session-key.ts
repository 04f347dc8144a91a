// Where the key that signs session cookies comes from. STRATUS_SESSION_KEY when it is set: every gateway
// of a deployment needs the same one. Without it, the local demo's durable store gets a key kept beside
// it in --data-dir, so its visitors keep their history across restarts as the store does; anything else
// (the memory store, a cluster not given the variable) signs with a key of the process alone.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { Secret } from '../secret.ts';

export const SESSION_KEY_FILE = 'session-key';

export async function sessionKeyFor(config: Config): Promise<Secret | null> {
  if (config.sessionKey) return config.sessionKey;
  if (config.store !== 'pouchdb') return null;
  const path = join(config.dataDir, SESSION_KEY_FILE);
  const kept = await keptKey(path);
  if (kept) return kept;
  await mkdir(config.dataDir, { recursive: true });
  const key = randomBytes(32).toString('hex');
  try {
    // Readable by this user alone, and never overwritten: the key of a process that got here first wins.
    await writeFile(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return new Secret(key);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return (await keptKey(path)) as Secret;
  }
}

async function keptKey(path: string): Promise<Secret | null> {
  try {
    return new Secret((await readFile(path, 'utf8')).trim());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
