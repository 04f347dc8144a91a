// How the ranks' payloads travel as transport messages: cut into chunks well under Kafka's 1 MB default
// message limit, each tagged in its headers, and put back together by (round, sender, chunk index).
import type { Delivery } from '../../adapters/transport/transport.ts';

/**
 * 256 KiB. The Kafka publisher sends what is published in one tick as one batch, and a partition's share
 * of a batch must fit in message.max.bytes (1 MB): with at most SEND_WINDOW chunks in flight, even all
 * of them landing on one partition stay under it.
 */
export const CHUNK_BYTES = 256 * 1024;
export const SEND_WINDOW = 3;

export type Kind = 'announce' | 'join' | 'data' | 'abort';

export const H = {
  kind: 'stratus-train-kind',
  session: 'stratus-train-session',
  seq: 'stratus-train-seq',
  rank: 'stratus-train-rank',
  chunk: 'stratus-train-chunk',
  chunks: 'stratus-train-chunks',
  incarnation: 'stratus-train-incarnation',
  /** On the first round's reply: the incarnation of every rank rank 0 admitted, comma-separated. */
  members: 'stratus-train-members',
} as const;

export interface Chunk {
  readonly kind: Kind;
  readonly session: string;
  readonly seq: number;
  readonly rank: number;
  readonly index: number;
  readonly count: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: Uint8Array;
}

/** Null for a message that is not ours (wrong or missing headers): it is ignored, never retried. */
export function parseChunk(message: Delivery): Chunk | null {
  const h = message.headers;
  const kind = h[H.kind] as Kind | undefined;
  if (kind !== 'announce' && kind !== 'join' && kind !== 'data' && kind !== 'abort') return null;
  const [seq, rank, index, count] = [h[H.seq], h[H.rank], h[H.chunk], h[H.chunks]].map((v) => Number(v ?? 0)) as [number, number, number, number];
  if (![seq, rank, index, count].every(Number.isInteger) || index < 0 || index >= Math.max(1, count)) return null;
  return { kind, session: h[H.session] ?? '', seq, rank, index, count: Math.max(1, count), headers: h, bytes: message.value };
}

/** A payload's chunks (one, empty, for an empty payload). */
export function cut(payload: Uint8Array): Uint8Array[] {
  if (payload.byteLength === 0) return [payload];
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < payload.byteLength; at += CHUNK_BYTES) chunks.push(payload.subarray(at, Math.min(payload.byteLength, at + CHUNK_BYTES)));
  return chunks;
}

/** One sender's payload being reassembled; always into a fresh, aligned buffer. */
export class Assembly {
  private readonly parts: (Uint8Array | undefined)[];
  private have = 0;
  headers: Readonly<Record<string, string>> = {};

  constructor(readonly count: number) {
    this.parts = new Array(count);
  }

  /** A chunk that does not fit, or came already (a redelivery), is dropped. */
  add(chunk: Chunk): void {
    if (chunk.count !== this.count || this.parts[chunk.index]) return;
    // Copied: the transport may reuse or free the message's buffer once the handler returns.
    this.parts[chunk.index] = chunk.bytes.slice();
    if (chunk.index === 0) this.headers = chunk.headers;
    this.have++;
  }

  get complete(): boolean {
    return this.have === this.count;
  }

  join(): Uint8Array {
    const total = this.parts.reduce((sum, part) => sum + (part?.byteLength ?? 0), 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const part of this.parts) {
      out.set(part!, at);
      at += part!.byteLength;
    }
    return out;
  }
}
