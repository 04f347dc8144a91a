// Who may start a request now. Each client (its session cookie, else its address) has a token bucket per
// kind of request (page, API, admin; probes, metrics and static files are never limited). A request takes
// one token, a costly drawing as many as the times it exceeds a cheap one's cost. And no client
// holds more than its fair share of the gateway's --max-in-flight slots (flow/fair-share.ts). A refused
// request costs almost nothing: the rate is checked before its body is read, and both refusals are a 429
// with Retry-After, while 503 is kept for a service with no slot free for anyone.
import { BlockList, isIP } from 'node:net';
import type { RateLimit, RouteClass } from '../config.ts';
import { FairShare } from '../flow/fair-share.ts';
import { KeyedBuckets } from '../flow/keyed-buckets.ts';
import type { Metrics } from '../metrics.ts';
import { DASHBOARD_URL } from '../views/links.ts';
import { HttpError } from './errors.ts';
import { SessionIds } from './session.ts';

export interface AdmissionOptions {
  readonly rateLimits: Readonly<Record<RouteClass, RateLimit>>;
  /** Slots for requests in progress, shared among the clients. */
  readonly maxInFlight: number;
  /** Addresses or CIDR ranges whose X-Forwarded-For is believed. */
  readonly trustedProxies: readonly string[];
  /** Who signs and reads the session cookies; a key of this process alone when not given. */
  readonly sessions?: SessionIds;
}

/** What Bun tells of a request's connection. */
export interface Peer {
  requestIP(request: Request): { address: string } | null;
}

/** How a client over its share is told to come back: a slot frees when one of its requests ends. */
const OVER_SHARE_RETRY_S = 1;

export class Admission {
  private readonly buckets = new Map<RouteClass, KeyedBuckets>();
  private readonly slots: FairShare;
  private readonly proxies = new BlockList();
  readonly sessions: SessionIds;
  /** Each request's session, its signature checked once: the rate limit, the fair share and the route ask. */
  private readonly sessionsSeen = new WeakMap<Request, string | null>();

  constructor(
    options: AdmissionOptions,
    private readonly metrics: Metrics,
  ) {
    for (const [kind, limit] of Object.entries(options.rateLimits) as [RouteClass, RateLimit][]) {
      if (limit) this.buckets.set(kind, new KeyedBuckets(limit));
    }
    this.slots = new FairShare(options.maxInFlight);
    this.sessions = options.sessions ?? new SessionIds(null);
    for (const range of options.trustedProxies) {
      const [address, prefix] = range.split('/') as [string, string | undefined];
      const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.proxies.addAddress(address, family);
      else this.proxies.addSubnet(address, Number(prefix), family);
    }
  }

  /**
   * The address a request came from: the peer's, or, when the peer is a trusted proxy, the nearest
   * address in X-Forwarded-For that is not one (each proxy appends the address it heard from, so the
   * entries left of an untrusted one may be made up by the client).
   */
  addressOf(request: Request, peer: Peer | null): string {
    let address = peer?.requestIP(request)?.address ?? 'unknown';
    if (!this.trusted(address)) return address;
    const forwarded = (request.headers.get('x-forwarded-for') ?? '').split(',').map((entry) => entry.trim());
    for (let i = forwarded.length - 1; i >= 0; i--) {
      const hop = forwarded[i] as string;
      if (isIP(hop) === 0) break;
      address = hop;
      if (!this.trusted(hop)) break;
    }
    return address;
  }

  /** The session the request's cookie carries, when we signed it. */
  sessionOf(request: Request): string | undefined {
    let session = this.sessionsSeen.get(request);
    if (session === undefined) {
      session = this.sessions.from(request.headers.get('cookie')) ?? null;
      this.sessionsSeen.set(request, session);
    }
    return session ?? undefined;
  }

  /** Whose request this is, for limits: the session when the request carries one we signed, else the address. */
  clientOf(request: Request, peer: Peer | null): string {
    const session = this.sessionOf(request);
    return session ? `session ${session}` : `address ${this.addressOf(request, peer)}`;
  }

  /** Takes one of `client`'s `kind` requests; 429 when it has used them up. */
  limit(kind: RouteClass, client: string): void {
    const bucket = this.buckets.get(kind);
    if (!bucket || bucket.take(client)) return;
    this.metrics.admissions.inc({ kind, outcome: 'rate_limited' });
    const seconds = Math.max(1, Math.ceil(bucket.waitMs(client) / 1000));
    throw new HttpError(429, 'rate_limited', `too many ${kind} requests from this client; retry in ${seconds} s`, { 'retry-after': String(seconds) });
  }

  /** Charges `client` for `units` more `kind` requests than the one limit() took: a request found to
   * cost that much more (a costly drawing) counts as that many, and the client's next ones wait for it. */
  charge(kind: RouteClass, client: string, units: number): void {
    if (units > 0) this.buckets.get(kind)?.spend(client, units);
  }

  /** Runs `work` holding one of the in-flight slots for `client`: 429 when it holds its share, 503 when
   * none is free. */
  async hold<T>(kind: RouteClass, client: string, work: () => Promise<T>): Promise<T> {
    const entry = this.slots.enter(client);
    if (entry === 'over_share') {
      this.metrics.admissions.inc({ kind, outcome: 'over_share' });
      throw new HttpError(429, 'over_share', 'this client holds its share of the requests in flight; retry when one is answered', { 'retry-after': String(OVER_SHARE_RETRY_S) });
    }
    if (entry === 'full') {
      this.metrics.admissions.inc({ kind, outcome: 'full' });
      throw new HttpError(503, 'overloaded', 'too many requests in flight; retry shortly', { 'retry-after': '1' });
    }
    this.metrics.admissions.inc({ kind, outcome: 'admitted' });
    try {
      return await work();
    } finally {
      this.slots.leave(client);
    }
  }

  private trusted(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.proxies.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** The kind of a request, for rate limits; null for what is never limited (probes, metrics, static files,
 * the docs: cheap answers a client may fetch as often as it likes). */
export function routeClassOf(method: string, path: string): RouteClass | null {
  if (method === 'POST') {
    if (path === '/api/predict' || /^\/v2\/models\/[^/]+\/infer$/.test(path)) return 'api';
    if (path === '/api/models' || path.startsWith('/api/models/') || path.startsWith('/api/feedback/')) return 'admin';
    return 'page';
  }
  // The review listing reads up to a thousand samples with their images: an admin's, and limited as such.
  if (method === 'GET' && path === '/api/feedback') return 'admin';
  // Pages and registry reads ask the store; the rest is served from memory.
  if (method === 'GET' && (path === '/' || path === DASHBOARD_URL || path === '/api/models' || /^\/v2\/models\/[^/]+$/.test(path))) return 'page';
  return null;
}
