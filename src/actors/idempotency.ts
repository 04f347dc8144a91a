// Idempotency-Key: a client that lost its connection (a gateway died, a network blip) sends the same
// request again with the same key and gets the first answer, from any gateway, instead of a second
// computation. The request id is derived from the key, the images and the day, so every gateway gives a
// retry the same id: the consumer stores it once (a stored id is left as it was), and the stored result
// is the answer replayed. The images are part of the id, so a key sent again with other images is another
// request; the day is, so a key is remembered for one to two days and then starts afresh. The id names
// its window, which tells the store which periods to look in (src/adapters/store/periods.ts).
import { KEYED_WINDOW_MS } from '../adapters/store/periods.ts';
import type { Store } from '../adapters/store/store.ts';
import { within } from '../flow/clock.ts';
import type { PredictionReply } from '../protocol/messages.ts';

/** A key is remembered through the window it was first used in and the whole window after. */
export const IDEMPOTENCY_WINDOW_MS = KEYED_WINDOW_MS;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Visible ASCII only, 1 to 255 characters: it travels in a header and is hashed, never shown. */
export function isIdempotencyKey(key: string): boolean {
  return key.length >= 1 && key.length <= MAX_IDEMPOTENCY_KEY_LENGTH && /^[\x21-\x7e]+$/.test(key);
}

/** The request id every gateway derives for this key and these `count` images, in the window of `now`. */
export function idempotentRequestId(key: string, pixels: Float32Array, count: number, now = Date.now()): string {
  const window = Math.floor(now / IDEMPOTENCY_WINDOW_MS);
  const hasher = new Bun.CryptoHasher('sha256');
  hasher.update(`stratus-idempotency\0${window}\0${key}\0${count}\0`);
  hasher.update(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength));
  return `idem-${window}-${hasher.digest('hex').slice(0, 40)}`;
}

/** How long a look-up of an earlier answer may take. A store that is slower than this (CouchDB restarting,
 * its client retrying) would otherwise hold every keyed request for as long as the outage lasts: measured
 * at 200 keyed requests/s through a CouchDB restart, a p50 of 2.7 s (bench/failover.ts). */
export const LOOKUP_DEADLINE_MS = 250;

/**
 * The id a keyed request goes out under, and the answer stored for it if it was made before: in this
 * window or the one before (a retry just past midnight still finds it). A store that is down, cannot be
 * read or does not answer within LOOKUP_DEADLINE_MS counts as holding none: computing again is then the
 * safe way, and stores nothing twice (the consumer keeps the first result stored under an id).
 */
export async function keyedRequest(store: Store, key: string, pixels: Float32Array, count: number, now = Date.now()): Promise<{ id: string; earlier: PredictionReply | null }> {
  const id = idempotentRequestId(key, pixels, count, now);
  if (!store.healthy()) return { id, earlier: null };
  const before = idempotentRequestId(key, pixels, count, now - IDEMPOTENCY_WINDOW_MS);
  const lookups = Promise.all([id, before].map((candidate) => store.getResult(candidate).catch(() => null)));
  const found = await within(lookups, LOOKUP_DEADLINE_MS, () => null);
  const result = found ? (found[0] ?? found[1]) : null;
  const earlier = result ? { id: result.id, digits: [...result.digits], probabilities: result.probabilities.flat(), modelVersion: result.modelVersion } : null;
  return { id, earlier };
}
