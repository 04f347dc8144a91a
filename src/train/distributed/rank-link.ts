// How the ranks of a distributed run meet on the Transport: a star around rank 0. Every round, each
// rank sends rank 0 its payload (a gradient vector, a checksum, epoch figures) on the job's `up` topic;
// rank 0 combines them and sends the one result back on `down`, which every other rank reads in a
// consumer group of its own. Every rank therefore holds the same bytes, computed once.
//
// Why a star and not a ring: through a broker every hop is a produce plus a fetch (milliseconds, not
// microseconds). Per step with N ranks and G bytes of gradients the star makes 2 sequential hops and
// the broker takes in N·G bytes ((N-1)·G up, G down) and hands out 2(N-1)·G; a ring all-reduce moves
// about 2(N-1)·G in total too, but in 2(N-1) sequential hops. For the 2-4 ranks this runs with, the star's
// bytes are the same or close and its latency is a fraction; rank 0's link is the limit only far beyond.
//
// Start (a rendezvous that ignores whatever an earlier, crashed attempt left on the topics): rank 0 opens
// a fresh session and announces it until every rank has joined it; its first reply names the processes
// (incarnations) it admitted, so a rank never mistakes an old session's messages for its own.
// A rank that is silent longer than `timeoutMs` fails the round with a message naming it; a rank that
// fails sends `abort`, so the others fail at once with its reason instead of waiting out the timeout.
import type { Delivery, Subscription, Transport } from '../../adapters/transport/transport.ts';
import { within } from '../../flow/clock.ts';
import { retry } from '../../flow/retry.ts';
import { jobTopics } from './job-id.ts';
import { Assembly, cut, H, parseChunk, SEND_WINDOW, type Chunk, type Kind } from './wire.ts';

export interface LinkOptions {
  readonly transport: Transport;
  readonly jobId: string;
  readonly rank: number;
  readonly worldSize: number;
  /** Longest silence of a peer during training (rank 0 gives up after 80 % of it, see round()). */
  readonly timeoutMs: number;
  /** Longest wait for the others to show up at start (pods start apart). */
  readonly startTimeoutMs: number;
}

export class PeerFailure extends Error {
  override readonly name = 'PeerFailure';
}

const ANNOUNCE_EVERY_MS = 250;
const RANK_ZERO_SHARE = 0.8;
const seconds = (ms: number) => String(Number((ms / 1000).toFixed(1)));
const ABORT_SEND_MS = 2_000;

export class RankLink {
  private session = '';
  private readonly incarnation = crypto.randomUUID();
  private readonly inbox = new Map<string, Assembly>();
  private readonly joined = new Map<number, string>();
  private readonly joinedSessions = new Set<string>();
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  /** Accepted chunks so far: any progress restarts a wait's clock. */
  private arrivals = 0;
  private seq = 0;
  private subscription: Subscription | null = null;
  /** Aborted by close(): a join still being tried again stops. */
  private readonly closing = new AbortController();
  private readonly topics: { up: string; down: string };

  private constructor(private readonly options: LinkOptions) {
    const { rank, worldSize } = options;
    if (!Number.isInteger(worldSize) || worldSize < 2) throw new Error(`a distributed run needs 2 ranks or more, got ${worldSize}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new Error(`rank ${rank} is outside 0..${worldSize - 1}`);
    this.topics = jobTopics(options.jobId);
  }

  /** Subscribes: rank 0 reads `up`, every other rank `down` in a group of its own. */
  static async open(options: LinkOptions): Promise<RankLink> {
    const link = new RankLink(options);
    const topic = options.rank === 0 ? link.topics.up : link.topics.down;
    const group = `${link.topics.up.slice(0, -'.up'.length)}.rank${options.rank}`;
    link.subscription = await options.transport.subscribe(topic, { group, concurrency: 16 }, async (message) => link.receive(message));
    return link;
  }

  get rank(): number {
    return this.options.rank;
  }

  /** Rank 0 hands every rank `state` (the checkpoint to resume from, or nothing); all return those bytes. */
  async rendezvous(state: Uint8Array): Promise<Uint8Array> {
    const { rank, worldSize, startTimeoutMs, jobId } = this.options;
    if (rank !== 0) {
      const welcome = await this.waitFor(() => this.takeWelcome(), startTimeoutMs, () => `rank ${rank} waited ${seconds(startTimeoutMs)} s for rank 0 to start job ${jobId}`);
      this.seq = 1;
      return welcome;
    }
    this.session = crypto.randomUUID();
    const announce = () => void this.send(this.topics.down, 'announce', 0, new Uint8Array(0)).catch(() => {});
    announce();
    const timer = setInterval(announce, ANNOUNCE_EVERY_MS);
    try {
      await this.waitFor(() => (this.joined.size === worldSize - 1 ? true : undefined), startTimeoutMs, () => {
        const missing = Array.from({ length: worldSize - 1 }, (_, i) => i + 1).filter((r) => !this.joined.has(r));
        return `rank 0 waited ${seconds(startTimeoutMs)} s for rank ${missing.join(', ')} to join job ${jobId}`;
      });
    } finally {
      clearInterval(timer);
    }
    const members = [this.incarnation, ...Array.from({ length: worldSize - 1 }, (_, i) => this.joined.get(i + 1)!)];
    await this.send(this.topics.down, 'data', 0, state, { [H.members]: members.join(',') });
    this.seq = 1;
    return state;
  }

  /**
   * One exchange: every rank calls it with its payload, in the same order. Rank 0 combines the payloads
   * (its own first, then by rank) and every rank returns what `combine` made. `label` names the point of
   * the run in a timeout's message.
   */
  async round(label: string, payload: Uint8Array, combine: (payloads: Uint8Array[]) => Uint8Array): Promise<Uint8Array> {
    const { rank, worldSize, timeoutMs } = this.options;
    const seq = this.seq++;
    if (rank !== 0) {
      await this.send(this.topics.up, 'data', seq, payload);
      const key = this.key(seq, 0);
      return this.waitFor(() => this.take(key), timeoutMs, () => `rank ${rank} waited ${seconds(timeoutMs)} s at ${label} for rank 0 (or a rank it waits for): it stalled or died`);
    }
    // Rank 0 gives up first: it knows which rank is missing, and its abort tells the others, before their
    // own (longer) waits end with a vaguer message.
    const patience = RANK_ZERO_SHARE * timeoutMs;
    const others = Array.from({ length: worldSize - 1 }, (_, i) => i + 1);
    const parts = await this.waitFor(
      () => (others.every((r) => this.inbox.get(this.key(seq, r))?.complete) ? others.map((r) => this.take(this.key(seq, r))!) : undefined),
      patience,
      () => {
        const missing = others.filter((r) => !this.inbox.get(this.key(seq, r))?.complete);
        return `rank 0 waited ${seconds(patience)} s at ${label} for rank ${missing.join(', ')}: it stalled or died`;
      },
    );
    const reply = combine([payload, ...parts]);
    await this.send(this.topics.down, 'data', seq, reply);
    return reply;
  }

  /** Tells the others why this rank gives up (best effort, bounded: the broker may be the problem). */
  async abort(error: unknown): Promise<void> {
    if (!this.session) return;
    const text = new TextEncoder().encode(error instanceof Error ? error.message : String(error));
    const sends = [this.topics.up, this.topics.down].map((topic) => this.send(topic, 'abort', this.seq, text).catch(() => {}));
    await within(Promise.all(sends), ABORT_SEND_MS, () => undefined);
  }

  async close(): Promise<void> {
    this.failure ??= new PeerFailure('the link was closed');
    this.closing.abort(this.failure);
    this.wake?.();
    await this.subscription?.unsubscribe();
    this.subscription = null;
  }

  private key(seq: number, from: number, session = this.session): string {
    return `${session}/${seq}/${from}`;
  }

  private take(key: string): Uint8Array | undefined {
    const assembly = this.inbox.get(key);
    if (!assembly?.complete) return undefined;
    this.inbox.delete(key);
    return assembly.join();
  }

  /** The first reply of a session this rank joined that admitted this very process. */
  private takeWelcome(): Uint8Array | undefined {
    for (const [key, assembly] of this.inbox) {
      if (!assembly.complete) continue;
      const [session, seq] = key.split('/');
      if (seq !== '0') continue;
      this.inbox.delete(key);
      const members = (assembly.headers[H.members] ?? '').split(',');
      if (members[this.options.rank] !== this.incarnation) continue;
      this.session = session!;
      for (const stale of [...this.inbox.keys()]) if (!stale.startsWith(`${session}/`)) this.inbox.delete(stale);
      return assembly.join();
    }
    return undefined;
  }

  private receive(message: Delivery): void {
    const chunk = parseChunk(message);
    if (!chunk) return;
    const { rank } = this.options;
    if (chunk.kind === 'abort') {
      const ours = chunk.session === this.session || (this.session === '' && this.joinedSessions.has(chunk.session));
      if (ours && chunk.rank !== rank) this.fail(new PeerFailure(`rank ${chunk.rank} failed: ${new TextDecoder().decode(chunk.bytes)}`));
    } else if (chunk.kind === 'announce') {
      if (rank !== 0 && this.session === '' && !this.joinedSessions.has(chunk.session)) {
        this.joinedSessions.add(chunk.session);
        // Rank 0 announces again, but this rank answers a session once: a join lost to a transient failure
        // would leave rank 0 waiting out its start timeout, so it is tried again until it lands.
        const join = () => this.send(this.topics.up, 'join', 0, new Uint8Array(0), { [H.incarnation]: this.incarnation }, chunk.session);
        const policy = { firstDelayMs: 100, maxDelayMs: 2_000, jitter: true, budgetMs: this.options.startTimeoutMs };
        void retry(join, policy, { signal: this.closing.signal }).catch(() => {});
      }
    } else if (chunk.kind === 'join') {
      if (rank === 0 && chunk.session === this.session && chunk.rank > 0 && chunk.rank < this.options.worldSize) {
        this.joined.set(chunk.rank, chunk.headers[H.incarnation] ?? '');
        this.arrived();
      }
    } else if (this.accepts(chunk)) {
      const key = this.key(chunk.seq, chunk.rank, chunk.session);
      let assembly = this.inbox.get(key);
      if (!assembly) this.inbox.set(key, (assembly = new Assembly(chunk.count)));
      assembly.add(chunk);
      this.arrived();
    }
  }

  private accepts(chunk: Chunk): boolean {
    if (this.session !== '') return chunk.session === this.session;
    // Before the welcome: only the first reply of a session this rank joined.
    return this.options.rank !== 0 && chunk.seq === 0 && chunk.rank === 0 && this.joinedSessions.has(chunk.session);
  }

  private arrived(): void {
    this.arrivals++;
    this.wake?.();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }

  /** Polls `ready` whenever something arrives; the clock restarts with every accepted chunk. */
  private async waitFor<T>(ready: () => T | undefined, timeoutMs: number, stalled: () => string): Promise<T> {
    let deadline = performance.now() + timeoutMs;
    let seen = this.arrivals;
    for (;;) {
      if (this.failure) throw this.failure;
      const value = ready();
      if (value !== undefined) return value;
      if (this.arrivals !== seen) {
        seen = this.arrivals;
        deadline = performance.now() + timeoutMs;
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new PeerFailure(stalled());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Publishes `payload` in chunks, SEND_WINDOW at a time (see CHUNK_BYTES). */
  private async send(topic: string, kind: Kind, seq: number, payload: Uint8Array, extra: Record<string, string> = {}, session = this.session): Promise<void> {
    const chunks = cut(payload);
    const { transport, rank } = this.options;
    for (let from = 0; from < chunks.length; from += SEND_WINDOW) {
      await Promise.all(
        chunks.slice(from, from + SEND_WINDOW).map((value, i) => {
          const index = from + i;
          const headers = { ...extra, [H.kind]: kind, [H.session]: session, [H.seq]: String(seq), [H.rank]: String(rank), [H.chunk]: String(index), [H.chunks]: String(chunks.length) };
          // Keyed by chunk: the chunks of one payload spread over the partitions and are fetched in parallel.
          return transport.publish(topic, { key: `${rank}.${index}`, value, headers });
        }),
      );
    }
  }
}
