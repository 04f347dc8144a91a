// Which role may do what in CouchDB, when each role logs in as its own user (`stratus couchdb keep` makes
// them; docs/security.md). CouchDB grants per database: a member may read and write its documents, and
// only a server admin may create or drop a database, or change its `_security` or design documents.
// Where a role needs to read but not write, a validate_doc_update function refuses its writes.
import { Periods, type SeriesKind } from '../periods.ts';

export const COUCH_ROLES = ['gateway', 'consumer', 'trainer'] as const;
export type CouchRole = (typeof COUCH_ROLES)[number];

/** Given to the gateway's user as well when gateways serve the admin API, which publishes models. */
const PUBLISHER = 'publisher';
type Grant = CouchRole | typeof PUBLISHER;

interface DatabaseAccess {
  readonly readers: readonly Grant[];
  readonly writers: readonly Grant[];
}

// Per database kind. The gateway reads results (GET /api/result) and clears history; the consumer
// writes both; the trainer reads accepted feedback; models and their serving version are written by
// whoever publishes. Nobody else is a member: the consumer never sees feedback, the trainer never sees
// what people drew.
const ACCESS: Record<'models' | 'settings' | 'feedback' | SeriesKind, DatabaseAccess> = {
  models: { readers: ['gateway', 'consumer', 'trainer'], writers: ['trainer', PUBLISHER] },
  settings: { readers: ['gateway', 'consumer', 'trainer'], writers: ['trainer', PUBLISHER] },
  feedback: { readers: ['gateway', 'trainer'], writers: ['gateway'] },
  results: { readers: ['gateway', 'consumer'], writers: ['consumer'] },
  history: { readers: ['gateway', 'consumer'], writers: ['gateway', 'consumer'] },
};

/** The design document that carries the write rule; list reads skip ids with this prefix. */
export const DESIGN_PREFIX = '_design/';
const GUARD_ID = `${DESIGN_PREFIX}stratus_access`;

export class CouchAccess {
  constructor(readonly prefix: string) {}

  /** The user name and CouchDB roles of a role's user. */
  user(role: CouchRole, gatewayPublishes: boolean): { name: string; roles: string[] } {
    const grants: Grant[] = role === 'gateway' && gatewayPublishes ? [role, PUBLISHER] : [role];
    return { name: `${this.prefix}${role}`, roles: grants.map((grant) => this.roleName(grant)) };
  }

  /** What a database of this store (named without the prefix) is, or null if it is none of ours. */
  private accessOf(name: string): DatabaseAccess | null {
    if (name === 'models' || name === 'settings' || name === 'feedback') return ACCESS[name];
    const period = Periods.parse(name);
    return period ? ACCESS[period.kind] : null;
  }

  /** The `_security` object: members are the roles that read it; no database admins but the server's. */
  security(name: string): object | null {
    const access = this.accessOf(name);
    if (!access) return null;
    return { admins: { names: [], roles: [] }, members: { names: [], roles: access.readers.map((grant) => this.roleName(grant)) } };
  }

  /** The design document refusing writes by members that only read; null where every member writes. */
  guard(name: string): { _id: string; validate_doc_update: string } | null {
    const access = this.accessOf(name);
    if (!access || access.readers.every((grant) => access.writers.includes(grant))) return null;
    const writers = JSON.stringify(['_admin', ...access.writers.map((grant) => this.roleName(grant))]);
    // Runs inside CouchDB (as JavaScript source), on every write of every document of the database.
    const check = `function (newDoc, oldDoc, userCtx) { var writers = ${writers}; for (var i = 0; i < userCtx.roles.length; i++) { if (writers.indexOf(userCtx.roles[i]) !== -1) return; } throw({ forbidden: 'this role may only read ' + ${JSON.stringify(name)} }); }`;
    return { _id: GUARD_ID, validate_doc_update: check };
  }

  private roleName(grant: Grant): string {
    return `${this.prefix}${grant}`;
  }
}

export function isDesignDoc(id: string): boolean {
  return id.startsWith(DESIGN_PREFIX);
}
