// The wire form of prediction requests: batches come back as they went in, and a message that lies about
// its contents is refused with a reason.
import { describe, expect, test } from 'bun:test';
import { MalformedMessageError, decodeBatch, encodeBatch, type PredictionRequest } from '../../src/protocol/messages.ts';

const image = (value: number, count = 1) => new Float32Array(784 * count).fill(value);

describe('prediction request codec', () => {
  test('a batch keeps each request with its own pixels, in order', () => {
    const sent: PredictionRequest[] = [
      { id: 'a', count: 1, pixels: image(0.1), sentAt: 1 },
      { id: 'b', count: 3, pixels: image(0.2, 3), sentAt: 2, sessionId: 'session-b' },
      { id: 'c', count: 1, pixels: image(0.3), sentAt: 3 },
    ];
    const decoded = decodeBatch(encodeBatch(sent));
    expect(decoded.requests.map((r) => [r.id, r.count, r.sessionId ?? null])).toEqual([
      ['a', 1, null],
      ['b', 3, 'session-b'],
      ['c', 1, null],
    ]);
    // One array holds every image of the message, and each request's pixels are its slice of it.
    expect(decoded.pixels).toHaveLength(5 * 784);
    expect(decoded.requests.map((r) => r.pixels.buffer === decoded.pixels.buffer)).toEqual([true, true, true]);
    expect(decoded.requests[1]?.pixels.byteOffset).toBe(decoded.pixels.byteOffset + 784 * 4);
    // Batches carry pixels in 1/255 steps: each value comes back within half a step.
    decoded.requests.forEach((request, i) => {
      const original = (sent[i] as PredictionRequest).pixels;
      expect(request.pixels).toHaveLength(original.length);
      for (let p = 0; p < original.length; p++) expect(Math.abs((request.pixels[p] as number) - (original[p] as number))).toBeLessThanOrEqual(0.5 / 255 + 1e-7);
    });
  });

  test('batch pixels are whole 1/255 steps, and values outside 0..1 are clamped, not wrapped', () => {
    const pixels = image(0, 1);
    pixels.set([0, 1, 0.5, 1.7, -0.3, 128 / 255]);
    const [request] = decodeBatch(encodeBatch([{ id: 'steps', count: 1, pixels, sentAt: 0 }])).requests as [PredictionRequest];
    expect(Array.from(request.pixels.subarray(0, 6), (v) => Math.round(v * 255))).toEqual([0, 255, 128, 255, 0, 128]);
    expect(request.pixels.every((v) => Number.isInteger(Math.round(v * 255 * 1e4) / 1e4))).toBe(true);
  });

  test('pixels that do not match the counts are refused', () => {
    const bytes = encodeBatch([{ id: 'a', count: 2, pixels: image(0.5, 2), sentAt: 0 }]);
    expect(() => decodeBatch(bytes.subarray(0, bytes.length - 4))).toThrow(/pixel bytes for 2 images/);
  });

  test('an empty batch, an entry without an id and a header that is not JSON are refused', () => {
    const frame = (header: string) => {
      const text = new TextEncoder().encode(header);
      const out = new Uint8Array(4 + Math.ceil(text.length / 4) * 4);
      new DataView(out.buffer).setUint32(0, text.length, true);
      out.set(text, 4);
      return out;
    };
    expect(() => decodeBatch(frame('{"requests":[],"pixels":"uint8"}'))).toThrow(/no requests/);
    expect(() => decodeBatch(frame('{"requests":[{"count":1}],"pixels":"uint8"}'))).toThrow(/lacks an id/);
    expect(() => decodeBatch(frame('{"requests":'))).toThrow(MalformedMessageError);
    // The float32 single-request form of versions before batching is no longer read.
    expect(() => decodeBatch(frame('{"id":"old","count":1,"sentAt":0}'))).toThrow(/no requests/);
    expect(() => decodeBatch(frame('{"requests":[{"id":"a","count":1}]}'))).toThrow(/uint8/);
    expect(() => decodeBatch(new Uint8Array(2))).toThrow(/shorter/);
  });

  test('a drawn number\'s alternative splits travel with it', () => {
    const split = { primary: 2, alternatives: [{ from: 1, to: 2, images: [2, 3] }] };
    const [request] = decodeBatch(encodeBatch([{ id: 'touching', count: 4, pixels: image(0.5, 4), sentAt: 0, split }])).requests as [PredictionRequest];
    expect(request.split).toEqual(split);
    const [plain] = decodeBatch(encodeBatch([{ id: 'apart', count: 2, pixels: image(0.5, 2), sentAt: 0 }])).requests as [PredictionRequest];
    expect(plain.split).toBeUndefined();
  });

  test('a split that names images outside the request, or replaces none of its digits, is refused', () => {
    const withSplit = (split: unknown) => encodeBatch([{ id: 'a', count: 3, pixels: image(0.5, 3), sentAt: 0, split } as unknown as PredictionRequest]);
    for (const split of [
      { primary: 4, alternatives: [] },
      { primary: 0, alternatives: [] },
      { primary: 2, alternatives: [{ from: 0, to: 1, images: [3] }] },
      { primary: 2, alternatives: [{ from: 0, to: 1, images: [1] }] },
      { primary: 2, alternatives: [{ from: 1, to: 1, images: [2] }] },
      { primary: 2, alternatives: [{ from: 0, to: 3, images: [2] }] },
      { primary: 2, alternatives: [{ from: 0, to: 1, images: [] }] },
      { primary: 2, alternatives: 'none' },
      'split',
    ]) {
      expect(() => decodeBatch(withSplit(split))).toThrow(/split names images outside the request/);
    }
  });
});
