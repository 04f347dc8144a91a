// src/protocol/ is what the actors say to each other and keep: the image shape (image.ts), the messages
// (this file), the topics and groups (topics.ts), the stored result (result.ts). It imports nothing of the
// project but itself; actors, model, adapters and views build on it.
//
// What the gateway and the consumer say to each other over the transport, and how it is put in bytes.
// A prediction message carries a batch of requests: a small JSON header followed by the raw pixels as
// uint8, round(value × 255): 784 bytes an image instead of ~8 KiB of JSON text, no parsing of 784
// numbers on the consumer's side, and a quarter of the float32 bytes that every process that copies,
// checksums, writes or reads the message pays for. An image from MNIST or from any canvas has no finer
// steps than 1/255 to lose. Under load a gateway packs many requests into one message and gets one
// reply for them all: every message costs each process it crosses, and the broker, far more than its
// bytes do. The other messages are small JSON documents.
import { PIXELS } from './image.ts';

export interface PredictionRequest {
  readonly id: string;
  /** Images in `pixels`: the digits of the gateway's split, then those of its alternatives. */
  readonly count: number;
  /** count × 784 values in 0..1, row-major, white digit on black. */
  readonly pixels: Float32Array;
  /** A drawn number the gateway could split more than one way: its own split is the first `primary`
   * images, the rest belong to the alternatives, and the consumer keeps the reading its model is surest
   * of (src/model/split-choice.ts). Absent: every image is a digit of the answer. */
  readonly split?: SplitAlternatives;
  readonly sessionId?: string;
  /** Store the images with the result (for feedback on the page's predictions). */
  readonly keepImages?: boolean;
  /** Epoch ms when the gateway published it, for the queue-wait metric. */
  readonly sentAt: number;
}

export interface SplitAlternatives {
  readonly primary: number;
  readonly alternatives: readonly AlternativeReading[];
}

/** The images `images` (indices into the request's, left to right) read in place of the gateway's
 * digits `from` up to `to` (exclusive). */
export interface AlternativeReading {
  readonly from: number;
  readonly to: number;
  readonly images: readonly number[];
}

export interface PredictionReply {
  readonly id: string;
  readonly digits: number[];
  /** count × 10, flattened. */
  readonly probabilities: number[];
  readonly modelVersion: string;
}

/** The reply to a prediction message: one entry per request, in the message's order. */
export interface BatchReply {
  readonly replies: PredictionReply[];
}

/** Every ANNOUNCE_EVERY_MS, and whenever it changes, each consumer says what it serves. */
export interface ModelAnnouncement {
  readonly version: string;
  readonly consumer: string;
  /** The consumer reads a request's `split` (since 2026-12-06). One before it would read every image of
   * such a request as a digit, so while one is heard, gateways send drawn numbers without alternatives. */
  readonly splits?: boolean;
  /** The last version this consumer was told to serve and refused, and why: the registry shows it. */
  readonly refused?: ModelRefusal;
}

/** How often a consumer repeats its ModelAnnouncement, so that gateways that start later learn it. */
export const ANNOUNCE_EVERY_MS = 5_000;

export interface ModelRefusal {
  readonly version: string;
  /** missing, load_failed or smoke_failed. */
  readonly outcome: string;
  readonly reason: string;
}

/** On TOPIC.modelUpdated: serve this version from the store. */
export interface ModelUpdated {
  readonly version: string;
}

export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type RequestHeader = Omit<PredictionRequest, 'pixels'>;

const headerOf = ({ id, count, split, sessionId, keepImages, sentAt }: PredictionRequest): RequestHeader => ({ id, count, split, sessionId, keepImages, sentAt }) as RequestHeader;

/** Several requests in one message; the consumer answers it with one BatchReply. */
export function encodeBatch(requests: readonly PredictionRequest[]): Uint8Array {
  const headerText = encoder.encode(JSON.stringify({ requests: requests.map(headerOf), pixels: 'uint8' }));
  const pixelsStart = 4 + Math.ceil(headerText.length / 4) * 4;
  const values = requests.reduce((n, request) => n + request.pixels.length, 0);
  const out = new Uint8Array(pixelsStart + values);
  new DataView(out.buffer).setUint32(0, headerText.length, true);
  out.set(headerText, 4);
  let offset = pixelsStart;
  for (const { pixels } of requests) {
    // A clamped view rounds (half to even) and clamps to 0..255: a value outside 0..1 cannot wrap around.
    const bytes = new Uint8ClampedArray(out.buffer, out.byteOffset + offset, pixels.length);
    for (let i = 0; i < pixels.length; i++) bytes[i] = (pixels[i] as number) * 255;
    offset += pixels.length;
  }
  return out;
}

export interface DecodedBatch {
  readonly requests: PredictionRequest[];
  /** Every image of the message, in order: each request's pixels are a view into it. */
  readonly pixels: Float32Array;
}

export function decodeBatch(bytes: Uint8Array): DecodedBatch {
  if (bytes.byteLength < 4) throw new MalformedMessageError('prediction batch shorter than its length prefix');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true);
  const pixelsStart = 4 + Math.ceil(headerLength / 4) * 4;
  if (pixelsStart > bytes.byteLength) throw new MalformedMessageError('prediction batch header overruns the message');
  let header: { requests?: unknown; pixels?: unknown };
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(4, 4 + headerLength)));
  } catch {
    throw new MalformedMessageError('prediction batch header is not JSON');
  }
  const entries = header?.requests;
  if (!Array.isArray(entries) || entries.length === 0) throw new MalformedMessageError('prediction batch holds no requests');
  if (header.pixels !== 'uint8') throw new MalformedMessageError('prediction batch does not carry uint8 pixels');
  const headers = entries.map(checkedHeader);
  const images = headers.reduce((sum, entry) => sum + entry.count, 0);
  const pixelBytes = bytes.byteLength - pixelsStart;
  if (pixelBytes !== images * PIXELS) throw new MalformedMessageError(`prediction batch carries ${pixelBytes} pixel bytes for ${images} images`);
  const pixels = new Float32Array(pixelBytes);
  for (let i = 0; i < pixelBytes; i++) pixels[i] = (bytes[pixelsStart + i] as number) / 255;
  let offset = 0;
  const requests = headers.map((entry) => {
    const own = pixels.subarray(offset, offset + entry.count * PIXELS);
    offset += own.length;
    return { ...entry, pixels: own };
  });
  return { requests, pixels };
}

function checkedHeader(entry: unknown): RequestHeader {
  const { id, count, split, sessionId, keepImages, sentAt } = (entry ?? {}) as { id?: unknown; count?: unknown; split?: unknown; sessionId?: unknown; keepImages?: unknown; sentAt?: unknown };
  if (typeof id !== 'string' || !Number.isInteger(count) || (count as number) < 1) {
    throw new MalformedMessageError('prediction request header lacks an id or a positive count');
  }
  return {
    id,
    count: count as number,
    sentAt: typeof sentAt === 'number' ? sentAt : Date.now(),
    ...(split === undefined ? {} : { split: checkedSplit(split, count as number) }),
    ...(typeof sessionId === 'string' ? { sessionId } : {}),
    ...(keepImages === true ? { keepImages } : {}),
  };
}

/** Alternatives that replace a run of the gateway's digits with images past them, all within the request. */
function checkedSplit(split: unknown, count: number): SplitAlternatives {
  const { primary, alternatives } = (split ?? {}) as { primary?: unknown; alternatives?: unknown };
  const index = (value: unknown, from: number, below: number) => Number.isInteger(value) && (value as number) >= from && (value as number) < below;
  const wellFormed =
    index(primary, 1, count + 1) &&
    Array.isArray(alternatives) &&
    alternatives.every((alternative) => {
      const { from, to, images } = (alternative ?? {}) as { from?: unknown; to?: unknown; images?: unknown };
      return (
        index(from, 0, primary as number) &&
        index(to, (from as number) + 1, (primary as number) + 1) &&
        Array.isArray(images) &&
        images.length > 0 &&
        images.every((image) => index(image, primary as number, count))
      );
    });
  if (!wellFormed) throw new MalformedMessageError('prediction request split names images outside the request');
  // Copied field by field: whatever else the message carried stays behind.
  const readings = (alternatives as AlternativeReading[]).map(({ from, to, images }) => ({ from, to, images: [...images] }));
  return { primary: primary as number, alternatives: readings };
}

export const encodeJson = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

export function decodeJson<T>(bytes: Uint8Array): T {
  try {
    return JSON.parse(decoder.decode(bytes)) as T;
  } catch {
    throw new MalformedMessageError('message is not JSON');
  }
}
