// `stratus couchdb keep`: the one process that logs into CouchDB as its admin when every role has a user
// of its own. At start it gives each role's user its password and roles and each database its members
// and write rule (couch-access.ts); then, on the store's sweep timer, it makes each period's databases
// before the roles need them (they may not create databases) and drops expired ones (they may not drop).
import type { Logger } from 'pino';
import type { CouchRole } from './couch-access.ts';
import type { CouchCredentials } from './couch-credentials.ts';
import { CouchStore, type CouchStoreOptions } from './couch-store.ts';

export interface CouchKeeper {
  stop(): Promise<void>;
}

export async function startCouchKeeper(
  options: Omit<CouchStoreOptions, 'keeper'>,
  users: ReadonlyMap<CouchRole, CouchCredentials>,
  gatewayPublishes: boolean,
  logger: Logger,
): Promise<CouchKeeper> {
  const store = new CouchStore({ ...options, keeper: true });
  await store.open();
  try {
    await store.provision(users, gatewayPublishes);
    // Now, not a sweep interval later: the roles cannot write until this period's databases exist.
    await store.sweep();
  } catch (error) {
    await store.close();
    throw error;
  }
  logger.info({ users: [...users.values()].map((user) => user.username), gatewayPublishes }, 'couchdb keeper: users and database security set');
  return { stop: () => store.close() };
}
