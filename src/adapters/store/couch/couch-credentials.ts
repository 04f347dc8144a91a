// Where CouchStore's user name and password come from: a mounted Secret directory (files `username` and
// `password`), else COUCHDB_USER / COUCHDB_PASSWORD, else the userinfo of --couchdb-url. The password
// lives only inside CouchCredentials, which prints as "[redacted]" so no log line, error or dump shows it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readCredentialFiles } from '../../../secret.ts';

const REDACTED = '[redacted]';

export class CouchCredentials {
  readonly #password: string;

  constructor(
    readonly username: string,
    password: string,
  ) {
    this.#password = password;
  }

  authorizationHeader(): string {
    return `Basic ${Buffer.from(`${this.username}:${this.#password}`).toString('base64')}`;
  }

  /** The `_users` document that gives this user its password (CouchDB hashes it on write). */
  userDocument(id: string, roles: readonly string[]): object {
    return { _id: id, name: this.username, password: this.#password, roles: [...roles], type: 'user' };
  }

  /** Masks the password (and the header built from it) wherever a message might have picked it up. */
  redact(message: string): string {
    let clean = message;
    for (const secret of [this.#password, this.authorizationHeader().slice('Basic '.length)]) {
      if (secret.length > 0) clean = clean.split(secret).join(REDACTED);
    }
    return clean;
  }

  toJSON(): { username: string; password: string } {
    return { username: this.username, password: REDACTED };
  }

  toString(): string {
    return `CouchCredentials(${this.username}, ${REDACTED})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** A wrong setting: the message names the setting, never its secret value. */
export class CouchSettingsError extends Error {
  override readonly name = 'CouchSettingsError';
}

export interface CouchConnection {
  /** The server's URL without userinfo: safe to log. */
  readonly url: string;
  readonly credentials: CouchCredentials | null;
}

/** Checks the URL and gathers the credentials; `source` names the setting the URL came from. */
export function resolveCouchConnection(
  rawUrl: string,
  source: string,
  secretDir: string | null,
  env: Record<string, string | undefined>,
): CouchConnection {
  let parsed: URL;
  try {
    parsed = new URL(rawUrl);
  } catch {
    // Echoing the value could print a password that was part of it.
    throw new CouchSettingsError(`${source}: not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CouchSettingsError(`${source}: must be an http:// or https:// URL`);
  }
  const fromUrl = parsed.username ? new CouchCredentials(decodeURIComponent(parsed.username), decodeURIComponent(parsed.password)) : null;
  parsed.username = '';
  parsed.password = '';
  const url = parsed.toString().replace(/\/+$/, '');
  const credentials = secretDir !== null ? readSecretDir(secretDir) : (fromEnvironment(env) ?? fromUrl);
  return { url, credentials };
}

function fromEnvironment(env: Record<string, string | undefined>): CouchCredentials | null {
  const user = env.COUCHDB_USER ?? '';
  const password = env.COUCHDB_PASSWORD ?? '';
  if (user === '' && password === '') return null;
  if (user === '') throw new CouchSettingsError('COUCHDB_PASSWORD is set but COUCHDB_USER is not');
  if (password === '') throw new CouchSettingsError('COUCHDB_USER is set but COUCHDB_PASSWORD is not');
  return new CouchCredentials(user, password);
}

function readSecretDir(directory: string): CouchCredentials {
  const { username, password } = readCredentialFiles(directory, (problem) => new CouchSettingsError(`--couchdb-secret-dir: ${problem}`));
  return new CouchCredentials(username, password);
}

/** The users `stratus couchdb keep` makes: `<directory>/<role>/username` and `password` for each role
 * whose directory is there (a role left out keeps the user it has). */
export function readRoleUsers<Role extends string>(directory: string, roles: readonly Role[]): Map<Role, CouchCredentials> {
  const users = new Map<Role, CouchCredentials>();
  for (const role of roles) {
    const roleDir = join(directory, role);
    if (!existsSync(roleDir)) continue;
    const { username, password } = readCredentialFiles(roleDir, (problem) => new CouchSettingsError(`--couchdb-users-dir: ${problem}`));
    users.set(role, new CouchCredentials(username, password));
  }
  if (users.size === 0) throw new CouchSettingsError(`--couchdb-users-dir: no ${roles.join('/, ')}/ directory in ${directory}`);
  return users;
}
