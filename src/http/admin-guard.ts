// Who may use the admin endpoints (publish, serve), and the record of what they did. Admin means
// `authorization: Bearer <STRATUS_ADMIN_TOKEN>`, compared in constant time; without a configured token the
// endpoints are off. A client (its address) that sends wrong tokens gets a few tries, then one more every
// 12 s: guessing a token is slowed to a crawl, and the lock-out ends by itself. Every admin action and
// every refused token is logged, with the client and never the token.
import { createHash, timingSafeEqual } from 'node:crypto';
import { systemClock, type Clock } from '../flow/clock.ts';
import { KeyedBuckets } from '../flow/keyed-buckets.ts';
import type { Logger } from '../log.ts';
import type { Secret } from '../secret.ts';
import type { Admission, Peer } from './admission.ts';
import { HttpError } from './errors.ts';

/** Wrong tokens a client may send at once, and how many more a second after that. */
export const FAILED_LOGINS = Object.freeze({ burst: 5, perSecond: 1 / 12 });

export type AdminAction = 'publish' | 'serve' | 'feedback_accept' | 'feedback_reject';

export class AdminGuard {
  /** The tries each client has left. */
  private readonly failures: KeyedBuckets;

  constructor(
    private readonly token: Secret | null,
    private readonly logger: Logger,
    clock: Clock = systemClock,
  ) {
    this.failures = new KeyedBuckets(FAILED_LOGINS, 10_000, clock);
  }

  /** Throws the HTTP error the request gets unless it carries the admin token (403, 401 or 429). */
  check(authorization: string | null, client: string): void {
    if (!this.token) throw new HttpError(403, 'admin_disabled', 'admin endpoints are off: no STRATUS_ADMIN_TOKEN is configured');
    const waitMs = this.failures.waitMs(client);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new HttpError(429, 'too_many_failures', `too many wrong admin tokens from this client; try again in ${seconds} s`, { 'retry-after': String(seconds) });
    }
    const given = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (given && sameSecret(given, this.token.reveal())) return;
    this.failures.take(client);
    this.logger.warn({ audit: { action: 'login', client, outcome: 'refused' } }, 'admin: wrong or missing token');
    throw new HttpError(401, 'unauthorized', 'send authorization: Bearer <admin token>', { 'www-authenticate': 'Bearer' });
  }

  /** The audit line of an admin action that was carried out; `subject` names what it was done to. */
  record(action: AdminAction, client: string, subject: string, details: Readonly<Record<string, string | number>>): void {
    this.logger.info({ audit: { action, client, ...details } }, `admin: ${action} ${subject}`);
  }
}

/**
 * What every admin route needs: who the caller is, by address (never by a session cookie, which any
 * client can come by), and the hook that checks the token. A transform hook: it runs before the query or
 * body is validated, so a caller without the token learns nothing of them.
 */
export function adminAccess(guard: AdminGuard, admission: Admission) {
  const clientOf = (request: Request, server: Peer | null) => admission.addressOf(request, server);
  const admin = { transform: ({ request, server }: { readonly request: Request; readonly server: Peer | null }) => guard.check(request.headers.get('authorization'), clientOf(request, server)) };
  return { clientOf, admin };
}

/** Constant time in the content: both sides are hashed first, so lengths never differ either. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => new Uint8Array(createHash('sha256').update(value).digest());
  return timingSafeEqual(digest(given), digest(expected));
}
