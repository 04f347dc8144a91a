// compose.yaml's CouchDB users, as ops/k8s has them (docs/cluster.md#couchdb-users): only CouchDB and the
// keeper (`stratus couchdb keep`) get the admin; couchdb-users writes the keeper's users directory from
// the roles' passwords; each role logs in as its own user, named as the keeper names it; and CouchDB gets
// the settings that lets those users work (system databases, database names listed to non-admins).
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli } from '../../src/config.ts';
import { dockerCompose, renderCompose } from '../helpers/compose-config.ts';
import { MAIN, REPO, runToEnd } from '../helpers/process.ts';

const compose = Bun.YAML.parse(readFileSync(join(REPO, 'compose.yaml'), 'utf8')) as { services: Record<string, any>; volumes: Record<string, unknown> };
const services = compose.services;
const ROLES = ['gateway', 'consumer', 'trainer'] as const;
const ADMIN_VARIABLES = ['COUCHDB_USER', 'COUCHDB_PASSWORD'];
const passwordVariable = (role: string) => `COUCHDB_${role.toUpperCase()}_PASSWORD`;

/** The variables a service's environment takes from the user's (`${VAR}`, `${VAR:-…}`, `${VAR:?…}`). */
function variablesOf(service: any): Set<string> {
  const names = new Set<string>();
  for (const value of Object.values(service.environment ?? {})) {
    for (const match of String(value).matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(match[1]!);
  }
  return names;
}

/** What compose makes of a value: `$$` is a literal `$`. */
const unescaped = (value: string) => value.replaceAll('$$', '$');

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('compose.yaml: CouchDB users', () => {
  test('the admin goes to CouchDB and the keeper alone; each role logs in as its own user', () => {
    for (const [name, service] of Object.entries(services)) {
      const admin = ADMIN_VARIABLES.filter((variable) => variablesOf(service).has(variable));
      expect({ name, admin }).toEqual({ name, admin: name === 'couchdb' || name === 'couchdb-keeper' ? ADMIN_VARIABLES : [] });
    }
    for (const role of ROLES) {
      const env = services[role].environment;
      expect({ role, user: env.COUCHDB_USER }).toEqual({ role, user: `stratus_${role}` });
      expect(String(env.COUCHDB_PASSWORD)).toMatch(new RegExp(`^\\$\\{${passwordVariable(role)}:\\?`));
      expect(env.STRATUS_COUCHDB_SECRET_DIR).toBeUndefined();
      // A role's password: its own service and the one that writes the keeper's users directory.
      const holders = Object.entries(services)
        .filter(([, service]) => variablesOf(service).has(passwordVariable(role)))
        .map(([name]) => name);
      expect(holders.sort()).toEqual(['couchdb-users', role].sort());
      expect(services[role].depends_on['couchdb-keeper']).toEqual({ condition: 'service_started' });
      expect(services[role].restart === 'unless-stopped' || role === 'trainer').toBe(true);
    }
  });

  test('the keeper runs the one image with the admin and the users directory couchdb-users writes', async () => {
    const keeper = services['couchdb-keeper'];
    expect(keeper.image).toBe(services.gateway.image);
    expect(keeper.command).toEqual(['couchdb', 'keep']);
    expect(keeper.ports).toBeUndefined();
    // The image's HEALTHCHECK probes a role's HTTP port, which the keeper does not have.
    expect(keeper.healthcheck).toEqual({ disable: true });
    expect(keeper.depends_on).toEqual({ couchdb: { condition: 'service_healthy' }, 'couchdb-users': { condition: 'service_completed_successfully' } });
    const usersDir = keeper.environment.STRATUS_COUCHDB_USERS_DIR;
    expect(keeper.volumes).toEqual([`couchdb-users:${usersDir}:ro`]);
    expect(services['couchdb-users'].volumes).toEqual(['couchdb-users:/users']);
    expect(compose.volumes).toHaveProperty('couchdb-users');
    expect(keeper.environment.STRATUS_COUCHDB_GATEWAY_PUBLISHES).toBe('true');

    // Its arguments and environment are a configuration the binary accepts.
    const filled = (value: string) => value.replace(/\$\{[^}]+\}/g, 'stand-in-secret-0123456789abcdef0123456789');
    const env = Object.fromEntries(Object.entries(keeper.environment).map(([k, v]) => [k, filled(String(v))]));
    const proc = Bun.spawn(['bun', MAIN, ...keeper.command, '--check-config'], { cwd: REPO, env: { PATH: process.env.PATH, ...env }, stdout: 'pipe', stderr: 'pipe' });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect({ code, stderr, stdout: stdout.trim() }).toEqual({ code: 0, stderr: '', stdout: 'configuration valid for couchdb keep' });
  }, 30_000);

  test("couchdb-users writes a directory the keeper reads: each role's user and password, files 0400", async () => {
    const init = services['couchdb-users'];
    expect(init.entrypoint.slice(0, 2)).toEqual(['/bin/sh', '-euc']);
    expect(init.network_mode).toBe('none');
    expect(init.cap_add).toEqual(['CHOWN']);
    const script: string = unescaped(init.entrypoint[2]);
    const users = mkdtempSync(join(tmpdir(), 'stratus-compose-users-'));
    scratch.push(users);
    // Passwords as a user might pick them: shell and printf characters stay as they are.
    const passwords = { gateway: 'g-%s $HOME `x` "q" \\n', consumer: "c-'quoted' -n", trainer: 't-0123456789abcdef' };
    // Not root here: the files stay the runner's (the image's user owns them in the volume).
    const chown = process.getuid?.() === 0 ? '' : 'chown() { :; }\n';
    for (let run = 0; run < 2; run++) {
      // The second run finds the first's files, as a restarted `docker compose up` does.
      const { code, stderr } = await runToEnd(['/bin/sh', '-euc', chown + script.replaceAll('/users', users)], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...Object.fromEntries(ROLES.map((role) => [passwordVariable(role), passwords[role]])) },
      });
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    }
    for (const role of ROLES) {
      expect(statSync(join(users, role)).mode & 0o777).toBe(0o711);
      for (const file of ['username', 'password']) expect(statSync(join(users, role, file)).mode & 0o777).toBe(0o400);
    }
    // The keeper's own reader: the binary's parser, as `stratus couchdb keep` reads the directory.
    const action = parseCli(['couchdb', 'keep', '--couchdb-users-dir', users], { COUCHDB_URL: 'http://couchdb:5984', COUCHDB_USER: 'admin', COUCHDB_PASSWORD: 'admin-password' });
    if (action.kind !== 'couchdb-keep') throw new Error(`parsed as ${action.kind}`);
    for (const role of ROLES) {
      const user = action.users.get(role)!;
      expect(user.username).toBe(`stratus_${role}`);
      expect(user.authorizationHeader()).toBe(`Basic ${Buffer.from(`stratus_${role}:${passwords[role]}`).toString('base64')}`);
    }
  });

  test('CouchDB makes its system databases and lists database names to the role users', () => {
    const couchdb = services.couchdb;
    const mount = (couchdb.volumes as string[]).find((volume) => volume.startsWith('./ops/compose/couchdb.ini:'));
    expect(mount).toBeDefined();
    const [, target, mode] = mount!.split(':');
    expect(mode).toBe('ro');
    // Copied into local.d, not mounted there: the image's entrypoint chowns all of /opt/couchdb.
    expect(target!.startsWith('/opt/couchdb/')).toBe(false);
    expect(couchdb.entrypoint).toBeUndefined();
    expect(couchdb.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(couchdb.command[2]).toMatch(new RegExp(`^cp ${target} /opt/couchdb/etc/local\\.d/[a-z0-9-]+\\.ini && exec /usr/local/bin/docker-entrypoint\\.sh /opt/couchdb/bin/couchdb$`));

    const settings = new Map<string, string>();
    let section = '';
    for (const line of readFileSync(join(REPO, 'ops/compose/couchdb.ini'), 'utf8').split('\n')) {
      const text = line.trim();
      if (text === '' || text.startsWith(';')) continue;
      const header = /^\[(.+)\]$/.exec(text);
      if (header) section = header[1]!;
      else settings.set(`${section}.${text.split('=')[0]!.trim()}`, text.slice(text.indexOf('=') + 1).trim());
    }
    expect(settings.get('couchdb.single_node')).toBe('true');
    expect(settings.get('chttpd.admin_only_all_dbs')).toBe('false');
  });

  // What compose itself renders (merge keys, interpolation), where docker-compose is installed (compose-config.ts).
  test.skipIf(dockerCompose === null)('docker-compose config: no role holds the admin password, and every password is required', async () => {
    const values: Record<string, string> = {
      COUCHDB_USER: 'the-admin',
      COUCHDB_PASSWORD: 'admin-password-0000',
      STRATUS_SESSION_KEY: 'session-key-0000',
      ...Object.fromEntries(ROLES.map((role) => [passwordVariable(role), `${role}-password-0000`])),
      // Kafka's users (test/ops/compose-kafka.test.ts checks where these go).
      KAFKA_ADMIN_PASSWORD: 'kafka-admin-1111',
      ...Object.fromEntries(ROLES.map((role) => [`KAFKA_${role.toUpperCase()}_PASSWORD`, `kafka-${role}-1111`])),
    };
    const { code, stdout, stderr } = await renderCompose(values);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const rendered = Bun.YAML.parse(stdout) as { services: Record<string, any> };
    const holding = (value: string) =>
      Object.entries(rendered.services)
        .filter(([, service]) => Object.values(service.environment ?? {}).includes(value))
        .map(([name]) => name)
        .sort();
    expect(holding(values.COUCHDB_PASSWORD!)).toEqual(['couchdb', 'couchdb-keeper']);
    for (const role of ROLES) {
      expect(holding(`${role}-password-0000`)).toEqual(['couchdb-users', role].sort());
      expect(rendered.services[role].environment.COUCHDB_USER).toBe(`stratus_${role}`);
    }
    for (const role of ROLES) {
      const { [passwordVariable(role)]: _, ...without } = values;
      const missing = await renderCompose(without);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain(`set ${passwordVariable(role)}`);
    }
  }, 60_000);
});
