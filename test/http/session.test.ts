// Session ids are the server's: issued, signed, and read back only with a signature made by the same key.
import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { SECURE_SESSION_COOKIE, SESSION_COOKIE, SessionIds } from '../../src/http/session.ts';
import { Secret } from '../../src/secret.ts';

const KEY = 'k'.repeat(40);
const plain = new Request('http://127.0.0.1:3000/');

/** The cookie's name=value, as a browser sends it back. */
function sentBack(setCookie: string): string {
  return setCookie.split(';')[0] as string;
}

describe('session ids', () => {
  test('an issued id reads back from its cookie; the value is the id and its HMAC-SHA256 under the key', () => {
    const sessions = new SessionIds(new Secret(KEY));
    const id = sessions.issue();
    const setCookie = sessions.cookie(id, plain);
    // Computed here with node:crypto directly, not through the code under test.
    const expected = `${SESSION_COOKIE}=${id}.${createHmac('sha256', KEY).update(id).digest('base64url')}`;
    expect(sentBack(setCookie)).toBe(expected);
    expect(sessions.from(`theme=dark; ${sentBack(setCookie)}`)).toBe(id);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).not.toContain('Secure');
  });

  test('ids the client chose, altered, unsigned or signed with another key are no session', () => {
    const sessions = new SessionIds(new Secret(KEY));
    const id = sessions.issue();
    const [, value] = sentBack(sessions.cookie(id, plain)).split('=') as [string, string];
    const signature = value.split('.')[1] as string;
    const other = sessions.issue();
    const foreign = sentBack(new SessionIds(new Secret('x'.repeat(40))).cookie(id, plain));
    for (const header of [
      `${SESSION_COOKIE}=aaaaaaaa`,
      `${SESSION_COOKIE}=${id}`,
      `${SESSION_COOKIE}=${id}.`,
      `${SESSION_COOKIE}=${other}.${signature}`,
      `${SESSION_COOKIE}=${id}.${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`,
      `${SESSION_COOKIE}=${id}.${signature}x`,
      `${SESSION_COOKIE}=${id.toUpperCase()}.${signature}`,
      foreign,
      `${SECURE_SESSION_COOKIE}=${value}`,
      '',
    ]) {
      expect(sessions.from(header)).toBeUndefined();
    }
  });

  test('gateways with the same key know each other\'s sessions; without a key, only the process that issued them', () => {
    const first = new SessionIds(new Secret(KEY));
    const second = new SessionIds(new Secret(KEY));
    const id = first.issue();
    expect(second.from(sentBack(first.cookie(id, plain)))).toBe(id);
    const alone = new SessionIds(null);
    const another = new SessionIds(null);
    const own = sentBack(alone.cookie(alone.issue(), plain));
    expect(alone.from(own)).toBeDefined();
    expect(another.from(own)).toBeUndefined();
  });

  test('Secure over https (or behind a proxy saying so); --secure-cookies: the __Host- cookie, always Secure', () => {
    const sessions = new SessionIds(new Secret(KEY));
    expect(sessions.cookie(sessions.issue(), new Request('https://stratus.example/'))).toContain('; Secure');
    expect(sessions.cookie(sessions.issue(), new Request('http://10.0.0.5/', { headers: { 'x-forwarded-proto': 'https' } }))).toContain('; Secure');
    const strict = new SessionIds(new Secret(KEY), true);
    const id = strict.issue();
    const setCookie = strict.cookie(id, plain);
    expect(setCookie.startsWith(`${SECURE_SESSION_COOKIE}=`)).toBe(true);
    expect(setCookie).toContain('; Secure');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).not.toContain('Domain');
    expect(strict.from(sentBack(setCookie))).toBe(id);
    // The plain name is not read there: a cookie set over http cannot stand in for the __Host- one.
    expect(strict.from(sentBack(setCookie).replace(SECURE_SESSION_COOKIE, SESSION_COOKIE))).toBeUndefined();
  });
});
