/**
 * MNIST loader for the IDX files as published (gzipped) or already unpacked.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const IMAGE_SIZE = 28 * 28;

export interface MnistSplit {
  /** count*784 pixels, row-major 28×28 per image, scaled to 0..1. */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
  /** count×10 distributions to train towards instead of one-hot labels (soft-targets.ts); absent: the labels. */
  targets?: Float32Array;
}

export interface Mnist {
  train: MnistSplit;
  test: MnistSplit;
  /** md5 of each file exactly as read (gzipped or not), keyed by its file name: what report.json records. */
  checksums: Record<string, string>;
}

export const FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

const IMAGES_MAGIC = 2051;
const LABELS_MAGIC = 2049;

function readIdx(dir: string, name: string, checksums?: Record<string, string>): Uint8Array {
  for (const file of [`${name}.gz`, name]) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const raw = new Uint8Array(readFileSync(path));
    if (checksums) checksums[file] = createHash('md5').update(raw).digest('hex');
    // Sniff the gzip magic rather than trust the extension: mirrors sometimes store them unpacked.
    return raw[0] === 0x1f && raw[1] === 0x8b ? new Uint8Array(gunzipSync(raw)) : raw;
  }
  throw new Error(`MNIST file ${name}(.gz) not found in ${dir}`);
}

function u32(buf: Uint8Array, at: number): number {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(at, false);
}

function header(buf: Uint8Array, name: string, magic: number, headerBytes: number): number {
  if (buf.length < headerBytes) throw new Error(`MNIST file ${name} is truncated (${buf.length} bytes)`);
  const got = u32(buf, 0);
  if (got !== magic) throw new Error(`MNIST file ${name} has magic ${got}, expected ${magic}`);
  return u32(buf, 4);
}

export function loadSplit(dir: string, split: keyof typeof FILES, checksums?: Record<string, string>): MnistSplit {
  const names = FILES[split];
  const img = readIdx(dir, names.images, checksums);
  const lab = readIdx(dir, names.labels, checksums);
  const count = header(img, names.images, IMAGES_MAGIC, 16);
  const rows = u32(img, 8);
  const cols = u32(img, 12);
  if (rows !== 28 || cols !== 28) throw new Error(`MNIST file ${names.images} has ${rows}×${cols} images, expected 28×28`);
  if (img.length !== 16 + count * IMAGE_SIZE) {
    throw new Error(`MNIST file ${names.images} holds ${img.length - 16} pixel bytes, header says ${count} images`);
  }
  const labelCount = header(lab, names.labels, LABELS_MAGIC, 8);
  if (labelCount !== count) throw new Error(`MNIST ${split}: ${count} images but ${labelCount} labels`);
  if (lab.length !== 8 + count) throw new Error(`MNIST file ${names.labels} is ${lab.length} bytes, expected ${8 + count}`);

  const images = new Float32Array(count * IMAGE_SIZE);
  for (let i = 0; i < images.length; i++) images[i] = img[16 + i]! / 255;
  const labels = lab.slice(8, 8 + count);
  for (let i = 0; i < count; i++) {
    if (labels[i]! > 9) throw new Error(`MNIST file ${names.labels}: label ${labels[i]} at index ${i} is not a digit`);
  }
  return { images, labels, count };
}

export type SplitName = keyof typeof FILES;

/** The files of `splits` that `dir` has in neither form (gzipped or unpacked), by their unpacked names. */
export function missingMnistFiles(dir: string, splits: readonly SplitName[] = ['train', 'test']): string[] {
  return splits.flatMap((split) => [FILES[split].images, FILES[split].labels]).filter((name) => !existsSync(join(dir, name)) && !existsSync(join(dir, `${name}.gz`)));
}

/** Loads both splits from `dir` (throws naming the first missing or malformed file). */
export function loadMnist(dir: string): Mnist {
  const checksums: Record<string, string> = {};
  return { train: loadSplit(dir, 'train', checksums), test: loadSplit(dir, 'test', checksums), checksums };
}
