// How the ranks' payloads travel as transport messages (src/train/distributed/wire.ts).
import { expect, test } from 'bun:test';
import { Assembly, CHUNK_BYTES, cut, H, parseChunk } from '../../../src/train/distributed/wire.ts';

test('a payload is cut into chunks under the limit and reassembled in any order', () => {
  const payload = Uint8Array.from({ length: 2 * CHUNK_BYTES + 5 }, (_, i) => i % 251);
  const chunks = cut(payload);
  expect(chunks.map((c) => c.byteLength)).toEqual([CHUNK_BYTES, CHUNK_BYTES, 5]);
  const assembly = new Assembly(3);
  for (const index of [2, 0, 0, 1]) {
    const headers = { [H.kind]: 'data', [H.seq]: '4', [H.rank]: '1', [H.chunk]: String(index), [H.chunks]: '3' };
    assembly.add(parseChunk({ topic: 't', key: '', attempt: 1, headers, value: chunks[index]! })!);
  }
  expect(assembly.complete).toBe(true);
  expect(Buffer.from(assembly.join()).equals(Buffer.from(payload))).toBe(true);
  expect(cut(new Uint8Array(0))).toHaveLength(1);
  expect(parseChunk({ topic: 't', key: '', attempt: 1, headers: {}, value: payload })).toBeNull();
});
