import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadMnist, loadSplit } from '../../src/train/mnist.ts';

const MNIST_DIR = resolve(import.meta.dir, '../../../shared/data/mnist');

function idx(magic: number, dims: number[], body: Uint8Array): Uint8Array {
  const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  head.setUint32(0, magic);
  dims.forEach((d, i) => head.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(head.byteLength + body.length);
  out.set(new Uint8Array(head.buffer));
  out.set(body, head.byteLength);
  return out;
}

describe('loadMnist', () => {
  test('loads the shared MNIST set with the published counts and ranges', () => {
    const { train, test: t10k } = loadMnist(MNIST_DIR);
    expect(train.count).toBe(60000);
    expect(t10k.count).toBe(10000);
    for (const split of [train, t10k]) {
      expect(split.images.length).toBe(split.count * 784);
      expect(split.labels.length).toBe(split.count);
      const seen = new Set(split.labels);
      expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      let min = Infinity;
      let max = -Infinity;
      for (const v of split.images) { if (v < min) min = v; if (v > max) max = v; }
      expect(min).toBe(0);
      expect(max).toBe(1);
    }
    // The first training digit of MNIST is a 5, the first test digit a 7.
    expect(train.labels[0]).toBe(5);
    expect(t10k.labels[0]).toBe(7);
  }, 30_000);

  test('a missing directory fails naming the file it looked for', () => {
    expect(() => loadMnist('/nonexistent/mnist')).toThrow(/train-images-idx3-ubyte/);
  });

  test('reads unpacked and gzipped files and checks magic numbers and counts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-'));
    try {
      const pixels = new Uint8Array(2 * 784).map((_, i) => i % 256);
      writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idx(2051, [2, 28, 28], pixels));
      writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), new Uint8Array(gzipSync(idx(2049, [2], new Uint8Array([3, 9])))));
      const split = loadSplit(dir, 'test');
      expect(split.count).toBe(2);
      expect([...split.labels]).toEqual([3, 9]);
      expect(split.images[255]).toBe(1);

      writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), new Uint8Array(gzipSync(idx(2051, [2], new Uint8Array([3, 9])))));
      expect(() => loadSplit(dir, 'test')).toThrow(/magic 2051, expected 2049/);
      writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), new Uint8Array(gzipSync(idx(2049, [3], new Uint8Array([3, 9, 1])))));
      expect(() => loadSplit(dir, 'test')).toThrow(/2 images but 3 labels/);
      expect(() => loadSplit(dir, 'train')).toThrow(/train-images-idx3-ubyte/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
