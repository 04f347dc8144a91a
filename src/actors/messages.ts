// What the gateway and the consumer say to each other over the transport, and how it is put in bytes.
// A request is a small JSON header followed by the raw float32 pixels: 3 KiB an image instead of ~8 KiB
// of JSON text, and no parsing of 784 numbers on the consumer's side.
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

export function encodeRequest(request: PredictionRequest): Uint8Array {
  const header = encoder.encode(JSON.stringify({ id: request.id, count: request.count, sessionId: request.sessionId, sentAt: request.sentAt }));
  // Pad the header so the pixels start on a 4-byte boundary and can be viewed, not copied, as float32.
  const headerBytes = Math.ceil(header.length / 4) * 4;
  const out = new Uint8Array(4 + headerBytes + request.pixels.byteLength);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  out.set(new Uint8Array(request.pixels.buffer, request.pixels.byteOffset, request.pixels.byteLength), 4 + headerBytes);
  return out;
}

export function decodeRequest(bytes: Uint8Array): PredictionRequest {
  if (bytes.byteLength < 4) throw new MalformedMessageError('prediction request shorter than its length prefix');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true);
  const pixelsStart = 4 + Math.ceil(headerLength / 4) * 4;
  if (pixelsStart > bytes.byteLength) throw new MalformedMessageError('prediction request header overruns the message');
  let header: { id?: unknown; count?: unknown; sessionId?: unknown; sentAt?: unknown };
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(4, 4 + headerLength)));
  } catch {
    throw new MalformedMessageError('prediction request header is not JSON');
  }
  const { id, count, sessionId, sentAt } = header;
  if (typeof id !== 'string' || !Number.isInteger(count) || (count as number) < 1) {
    throw new MalformedMessageError('prediction request header lacks an id or a positive count');
  }
  const pixelBytes = bytes.byteLength - pixelsStart;
  if (pixelBytes !== (count as number) * PIXELS * 4) {
    throw new MalformedMessageError(`prediction request carries ${pixelBytes} pixel bytes for ${count} images`);
  }
  const aligned = (bytes.byteOffset + pixelsStart) % 4 === 0;
  const pixels = aligned
    ? new Float32Array(bytes.buffer, bytes.byteOffset + pixelsStart, pixelBytes / 4)
    : new Float32Array(bytes.slice(pixelsStart).buffer);
  return {
    id,
    count: count as number,
    pixels,
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
