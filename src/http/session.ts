// The visitor's session: a random id in the `stratus_session` cookie, under which the store keeps the
// history of that visitor's predictions. HttpOnly (no script needs it), SameSite=Lax (not sent on
// cross-site subrequests or POSTs).
export const SESSION_COOKIE = 'stratus_session';
const SESSION_PATTERN = /^[A-Za-z0-9-]{8,64}$/;
/** A year: the history is meant to survive reloads and restarts of the browser. */
const SESSION_MAX_AGE_S = 365 * 24 * 3600;

/** The session id from a Cookie header, or undefined. Read by hand: Elysia's cookie jar costs more per
 * request than the rest of the API route. A malformed value counts as no session. */
export function sessionFrom(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === SESSION_COOKIE && value && SESSION_PATTERN.test(value)) return value;
  }
  return undefined;
}

export function newSessionId(): string {
  return crypto.randomUUID();
}

/** The Set-Cookie value for a new session; Secure when the page was reached over https. */
export function sessionCookie(sessionId: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${sessionId}; Path=/; Max-Age=${SESSION_MAX_AGE_S}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
