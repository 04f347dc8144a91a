// What the gateway and the consumer say to each other over the transport, and how it is put in bytes.
// A message is a small JSON header followed by the raw float32 pixels: 3 KiB an image instead of ~8 KiB
// of JSON text, and no parsing of 784 numbers on the consumer's side.
// Under load a gateway packs many requests into one message (a batch) and gets one reply for them all:
// every message costs each process it crosses, and the broker, far more than its bytes do. A message
// holding a single request keeps the earlier form, so both sides of a rolling upgrade still understand it.
import { PIXELS } from '../model/shape.ts';

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

/** One request, in the form every version understands. */
export const encodeRequest = (request: PredictionRequest): Uint8Array => frame(headerOf(request), [request.pixels]);

/** Several requests in one message; the consumer answers it with one BatchReply. */
export const encodeBatch = (requests: readonly PredictionRequest[]): Uint8Array =>
  frame({ requests: requests.map(headerOf) }, requests.map((request) => request.pixels));

function frame(header: object, pixels: readonly Float32Array[]): Uint8Array {
  const headerText = encoder.encode(JSON.stringify(header));
  // Pad the header so the pixels start on a 4-byte boundary and can be viewed, not copied, as float32.
  const pixelsStart = 4 + Math.ceil(headerText.length / 4) * 4;
  const out = new Uint8Array(pixelsStart + pixels.reduce((bytes, part) => bytes + part.byteLength, 0));
  new DataView(out.buffer).setUint32(0, headerText.length, true);
  out.set(headerText, 4);
  let offset = pixelsStart;
  for (const part of pixels) {
    out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), offset);
    offset += part.byteLength;
  }
  return out;
}

export interface DecodedRequests {
  readonly requests: PredictionRequest[];
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
  let header: { requests?: unknown };
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(4, 4 + headerLength)));
  } catch {
    throw new MalformedMessageError('prediction request header is not JSON');
  }
  const batch = header !== null && typeof header === 'object' && 'requests' in header;
  const entries = batch ? header.requests : [header];
  if (!Array.isArray(entries) || entries.length === 0) throw new MalformedMessageError('prediction batch holds no requests');
  const headers = entries.map(checkedHeader);
  const images = headers.reduce((sum, entry) => sum + entry.count, 0);
  const pixelBytes = bytes.byteLength - pixelsStart;
  if (pixelBytes !== images * PIXELS * 4) {
    throw new MalformedMessageError(`prediction request carries ${pixelBytes} pixel bytes for ${images} images`);
  }
  const aligned = (bytes.byteOffset + pixelsStart) % 4 === 0;
  const all = aligned
    ? new Float32Array(bytes.buffer, bytes.byteOffset + pixelsStart, pixelBytes / 4)
    : new Float32Array(bytes.slice(pixelsStart).buffer);
  let offset = 0;
  const requests = headers.map((entry) => {
    const pixels = all.subarray(offset, offset + entry.count * PIXELS);
    offset += pixels.length;
    return { ...entry, pixels };
  });
  return { requests, batch };
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
