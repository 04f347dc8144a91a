// The visitor's session: an id the server issues, in a cookie, under which the store keeps the history of
// that visitor's predictions and which rate limits and fair shares count by. The cookie carries the id and
// an HMAC of it, so a client cannot choose its own id: not someone else's (to read their history), not a
// fresh one per request (to escape its limits), not one planted in a victim's browser (fixation).
// HttpOnly (no script needs it), SameSite=Lax (not sent on cross-site subrequests or POSTs).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../secret.ts';

export const SESSION_COOKIE = 'stratus_session';
/** With --secure-cookies: browsers take a `__Host-` cookie only over https, with Path=/ and no Domain, so
 * neither a page on plain http nor a sibling subdomain can set or overwrite it. */
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;
const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** base64url of a SHA-256 HMAC: 43 characters. */
const SIGNATURE_LENGTH = 43;
/** A year: the history is meant to survive reloads and restarts of the browser. */
const SESSION_MAX_AGE_S = 365 * 24 * 3600;

export class SessionIds {
  readonly #key: string;
  readonly cookieName: string;

  /**
   * `key`: STRATUS_SESSION_KEY; without one, a random key of this process, so its sessions end with it and
   * other gateways do not know them. `secureCookies`: the `__Host-` cookie, always Secure.
   */
  constructor(
    key: Secret | null,
    private readonly secureCookies = false,
  ) {
    this.#key = key ? key.reveal() : randomBytes(32).toString('hex');
    this.cookieName = secureCookies ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
  }

  /** The session id a Cookie header carries, when this server (or one with its key) signed it; a forged,
   * unsigned or malformed value counts as no session. Read by hand: Elysia's cookie jar costs more per
   * request than the rest of the API route. */
  from(header: string | null): string | undefined {
    if (!header) return undefined;
    for (const part of header.split(';')) {
      const [name, value] = part.trim().split('=', 2);
      if (name === this.cookieName && value) return this.verified(value);
    }
    return undefined;
  }

  issue(): string {
    return crypto.randomUUID();
  }

  /** The Set-Cookie value for a new session. Without --secure-cookies, Secure when the page was reached
   * over https (behind a TLS-terminating proxy the URL says http; the proxy's header says what the browser used). */
  cookie(id: string, request: Request): string {
    const secure = this.secureCookies || request.url.startsWith('https:') || request.headers.get('x-forwarded-proto') === 'https';
    return `${this.cookieName}=${id}.${this.sign(id)}; Path=/; Max-Age=${SESSION_MAX_AGE_S}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }

  private verified(value: string): string | undefined {
    const dot = value.indexOf('.');
    const id = value.slice(0, dot);
    const signature = value.slice(dot + 1);
    if (dot === -1 || !ID_PATTERN.test(id) || signature.length !== SIGNATURE_LENGTH) return undefined;
    const encode = (text: string) => new TextEncoder().encode(text);
    return timingSafeEqual(encode(signature), encode(this.sign(id))) ? id : undefined;
  }

  private sign(id: string): string {
    return createHmac('sha256', this.#key).update(id).digest('base64url');
  }
}
