// What the gateway and the consumer say to each other over the transport, and how it is put in bytes.
// A message is a small JSON header followed by the raw pixels (float32, or uint8 in batches): 3 KiB or
// 784 bytes an image instead of ~8 KiB of JSON text, and no parsing of 784 numbers on the consumer's side.
// Under load a gateway packs many requests into one message (a batch) and gets one reply for them all:
// every message costs each process it crosses, and the broker, far more than its bytes do. A message
// holding a single request keeps the earlier form, so both sides of a rolling upgrade still understand it.
import { PIXELS } from './image.ts';

export const TOPIC = Object.freeze({
  predictions: 'stratus.predictions',
  modelAnnouncements: 'stratus.models.announced',
  /** A new serving version was chosen (publish, promote, rollback): every consumer loads it. */
  modelUpdated: 'stratus.models.updated',
});

export const CONSUMER_GROUP = 'stratus-consumers';

export interface PredictionRequest {
  readonly id: string;
  readonly count: number;
  /** count × 784 values in 0..1, row-major, white digit on black. */
  readonly pixels: Float32Array;
  readonly sessionId?: string;
  /** Epoch ms when the gateway published it, for the queue-wait metric. */
  readonly sentAt: number;
}

export interface PredictionReply {
  readonly id: string;
  readonly digits: number[];
  /** count × 10, flattened. */
  readonly probabilities: number[];
  readonly modelVersion: string;
}

/** The reply to a batch: one entry per request, in the batch's order. */
export interface BatchReply {
  readonly replies: PredictionReply[];
}

export interface ReplyError {
  readonly error: { readonly code: string; readonly message: string };
}

export interface ModelAnnouncement {
  readonly version: string;
  readonly consumer: string;
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

const headerOf = ({ id, count, sessionId, sentAt }: PredictionRequest): RequestHeader => ({ id, count, sessionId, sentAt }) as RequestHeader;

/** How pixels travel. float32: as given (single requests, the form every version understands). uint8:
 * round(value × 255), a quarter of the bytes, which every process that copies, checksums, writes or
 * reads the message pays for (gateway, broker, consumer); an image from MNIST or from any canvas has
 * no finer steps than 1/255 to lose. Batches use it. */
type PixelEncoding = 'float32' | 'uint8';

/** One request, in the form every version understands. */
export const encodeRequest = (request: PredictionRequest): Uint8Array => frame(headerOf(request), [request.pixels], 'float32');

/** Several requests in one message, pixels as uint8; the consumer answers it with one BatchReply. */
export const encodeBatch = (requests: readonly PredictionRequest[]): Uint8Array =>
  frame({ requests: requests.map(headerOf), pixels: 'uint8' }, requests.map((request) => request.pixels), 'uint8');

function frame(header: object, pixels: readonly Float32Array[], encoding: PixelEncoding): Uint8Array {
  const headerText = encoder.encode(JSON.stringify(header));
  // Pad the header so the pixels start on a 4-byte boundary and can be viewed, not copied, as float32.
  const pixelsStart = 4 + Math.ceil(headerText.length / 4) * 4;
  const values = pixels.reduce((n, part) => n + part.length, 0);
  const out = new Uint8Array(pixelsStart + values * (encoding === 'uint8' ? 1 : 4));
  new DataView(out.buffer).setUint32(0, headerText.length, true);
  out.set(headerText, 4);
  let offset = pixelsStart;
  for (const part of pixels) {
    if (encoding === 'uint8') {
      // A clamped view rounds (half to even) and clamps to 0..255: a value outside 0..1 cannot wrap around.
      const bytes = new Uint8ClampedArray(out.buffer, out.byteOffset + offset, part.length);
      for (let i = 0; i < part.length; i++) bytes[i] = (part[i] as number) * 255;
      offset += part.length;
    } else {
      out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), offset);
      offset += part.byteLength;
    }
  }
  return out;
}

export interface DecodedRequests {
  readonly requests: PredictionRequest[];
  /** Every image of the message, in order: each request's pixels are a view into it. */
  readonly pixels: Float32Array;
  /** Sent with encodeBatch: answer with a BatchReply, even when it holds one request. */
  readonly batch: boolean;
}

/** A message from encodeRequest (one request, batch false) or encodeBatch. */
export function decodeRequests(bytes: Uint8Array): DecodedRequests {
  if (bytes.byteLength < 4) throw new MalformedMessageError('prediction request shorter than its length prefix');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true);
  const pixelsStart = 4 + Math.ceil(headerLength / 4) * 4;
  if (pixelsStart > bytes.byteLength) throw new MalformedMessageError('prediction request header overruns the message');
  let header: { requests?: unknown; pixels?: unknown };
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(4, 4 + headerLength)));
  } catch {
    throw new MalformedMessageError('prediction request header is not JSON');
  }
  const batch = header !== null && typeof header === 'object' && 'requests' in header;
  const entries = batch ? header.requests : [header];
  if (!Array.isArray(entries) || entries.length === 0) throw new MalformedMessageError('prediction batch holds no requests');
  const encoding: PixelEncoding = batch && header.pixels === 'uint8' ? 'uint8' : 'float32';
  const headers = entries.map(checkedHeader);
  const images = headers.reduce((sum, entry) => sum + entry.count, 0);
  const pixelBytes = bytes.byteLength - pixelsStart;
  const bytesPerValue = encoding === 'uint8' ? 1 : 4;
  if (pixelBytes !== images * PIXELS * bytesPerValue) {
    throw new MalformedMessageError(`prediction request carries ${pixelBytes} pixel bytes for ${images} images`);
  }
  const pixels = pixelValues(bytes.subarray(pixelsStart), encoding);
  let offset = 0;
  const requests = headers.map((entry) => {
    const own = pixels.subarray(offset, offset + entry.count * PIXELS);
    offset += own.length;
    return { ...entry, pixels: own };
  });
  return { requests, pixels, batch };
}

function pixelValues(bytes: Uint8Array, encoding: PixelEncoding): Float32Array {
  if (encoding === 'uint8') {
    const values = new Float32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) values[i] = (bytes[i] as number) / 255;
    return values;
  }
  // A view when the pixels sit on a 4-byte boundary of their buffer; a copy otherwise.
  return bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) : new Float32Array(bytes.slice().buffer);
}

function checkedHeader(entry: unknown): RequestHeader {
  const { id, count, sessionId, sentAt } = (entry ?? {}) as { id?: unknown; count?: unknown; sessionId?: unknown; sentAt?: unknown };
  if (typeof id !== 'string' || !Number.isInteger(count) || (count as number) < 1) {
    throw new MalformedMessageError('prediction request header lacks an id or a positive count');
  }
  return {
    id,
    count: count as number,
    sentAt: typeof sentAt === 'number' ? sentAt : Date.now(),
    ...(typeof sessionId === 'string' ? { sessionId } : {}),
  };
}

export const encodeJson = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

export function decodeJson<T>(bytes: Uint8Array): T {
  try {
    return JSON.parse(decoder.decode(bytes)) as T;
  } catch {
    throw new MalformedMessageError('message is not JSON');
  }
}
