// Who may use the admin endpoints: the token, the lock-out of a client that guesses, and its end.
import { expect, test } from 'bun:test';
import { AdminGuard, FAILED_LOGINS } from '../../src/http/admin-guard.ts';
import { HttpError } from '../../src/http/errors.ts';
import { createLogger } from '../../src/log.ts';
import { Secret } from '../../src/secret.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

const statusOf = (attempt: () => void): number => {
  try {
    attempt();
    return 200;
  } catch (error) {
    if (error instanceof HttpError) return error.status;
    throw error;
  }
};

function guard() {
  const clock = new FakeClock();
  const admin = new AdminGuard(new Secret('s3cret-token'), createLogger('silent'), clock);
  const login = (token: string, client = '10.0.0.1') => statusOf(() => admin.check(`Bearer ${token}`, client));
  return { clock, admin, login };
}

test('the right token passes; a wrong, missing or malformed one is a 401; no token configured is a 403', () => {
  const { admin, login } = guard();
  expect(login('s3cret-token')).toBe(200);
  expect(login('s3cret-tokem')).toBe(401);
  expect(statusOf(() => admin.check(null, 'c'))).toBe(401);
  expect(statusOf(() => admin.check('Basic czNjcmV0LXRva2Vu', 'c'))).toBe(401);
  expect(statusOf(() => new AdminGuard(null, createLogger('silent')).check('Bearer anything', 'c'))).toBe(403);
});

test('after a burst of wrong tokens a client waits: one more try grows back every 12 s; other clients are not held up', () => {
  const { clock, login } = guard();
  for (let i = 0; i < FAILED_LOGINS.burst; i++) expect(login(`guess-${i}`)).toBe(401);
  expect(login('s3cret-token')).toBe(429);
  expect(login('s3cret-token', '10.0.0.2')).toBe(200);
  clock.advance(1_000 / FAILED_LOGINS.perSecond);
  expect(login('another-guess')).toBe(401);
  expect(login('s3cret-token')).toBe(429);
  clock.advance(1_000 / FAILED_LOGINS.perSecond);
  expect(login('s3cret-token')).toBe(200);
});

test('the 429 says how long to wait, in whole seconds', () => {
  const { clock, admin, login } = guard();
  for (let i = 0; i < FAILED_LOGINS.burst; i++) login(`guess-${i}`);
  clock.advance(2_500);
  try {
    admin.check('Bearer s3cret-token', '10.0.0.1');
    throw new Error('not refused');
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).headers).toEqual({ 'retry-after': String(Math.ceil((1_000 / FAILED_LOGINS.perSecond - 2_500) / 1000)) });
  }
});
