// --download against a loopback mirror: the real files are kept, a corrupt one is refused and removed.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadMnist, MNIST_MD5 } from '../../src/train/mnist-download.ts';
import { loadMnist, missingMnistFiles } from '../../src/train/mnist.ts';
import { MNIST_DIR } from '../helpers/data.ts';

/** Serves the shared MNIST files; `corrupt` names one whose bytes it flips. Counts requests per path. */
function mirror(corrupt: string | null = null) {
  const requests: string[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const name = new URL(request.url).pathname.split('/').pop() ?? '';
      requests.push(name);
      if (!(name in MNIST_MD5)) return new Response('not found', { status: 404 });
      const bytes = new Uint8Array(await Bun.file(join(MNIST_DIR, name)).arrayBuffer());
      if (name === corrupt) bytes[bytes.length >> 1]! ^= 0xff;
      return new Response(bytes);
    },
  });
  return { url: `http://127.0.0.1:${server.port}/mnist/`, requests, stop: () => server.stop(true) };
}

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stratus-mnist-dl-'));
  dirs.push(dir);
  return dir;
};
let good: ReturnType<typeof mirror>;
beforeAll(() => {
  good = mirror();
});
afterAll(async () => {
  good.stop();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

test('downloads the four files, verifies them, and the result loads with the published md5 sums', async () => {
  const dir = join(await tempDir(), 'nested');
  const fetched = await downloadMnist(dir, good.url);
  expect(fetched.sort()).toEqual(Object.keys(MNIST_MD5).sort());
  expect(missingMnistFiles(dir)).toEqual([]);
  expect((await readdir(dir)).sort()).toEqual(Object.keys(MNIST_MD5).sort()); // no temporary file left
  const data = loadMnist(dir);
  expect(data.train.count).toBe(60000);
  expect(data.checksums).toEqual(MNIST_MD5);

  // A second run finds everything and fetches nothing.
  const before = good.requests.length;
  expect(await downloadMnist(dir, good.url)).toEqual([]);
  expect(good.requests.length).toBe(before);
}, 30_000);

test('fetches only what is missing, and leaves an unpacked copy alone', async () => {
  const dir = await tempDir();
  const { gunzipSync } = await import('node:zlib');
  const labels = new Uint8Array(await Bun.file(join(MNIST_DIR, 't10k-labels-idx1-ubyte.gz')).arrayBuffer());
  await Bun.write(join(dir, 't10k-labels-idx1-ubyte'), new Uint8Array(gunzipSync(labels)));
  await Bun.write(join(dir, 'train-labels-idx1-ubyte.gz'), Bun.file(join(MNIST_DIR, 'train-labels-idx1-ubyte.gz')));
  const fetched = await downloadMnist(dir, good.url.slice(0, -1)); // base URL without the trailing slash
  expect(fetched.sort()).toEqual(['t10k-images-idx3-ubyte.gz', 'train-images-idx3-ubyte.gz']);
}, 30_000);

test('a corrupt file fails with its md5, is deleted, and the good ones before it stay', async () => {
  const bad = mirror('t10k-images-idx3-ubyte.gz');
  try {
    const dir = await tempDir();
    const run = downloadMnist(dir, bad.url);
    await expect(run).rejects.toThrow(/t10k-images-idx3-ubyte\.gz has md5 [0-9a-f]{32}, expected 9fb629c4189551a2d022fa330f9573f3/);
    const left = await readdir(dir);
    expect(left).not.toContain('t10k-images-idx3-ubyte.gz');
    expect(left.filter((name) => name.endsWith('.part'))).toEqual([]);
    expect(left.sort()).toEqual(['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
  } finally {
    bad.stop();
  }
}, 30_000);

test('an HTTP error names the URL and status', async () => {
  const notFound = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('gone', { status: 404 }) });
  try {
    const other = await tempDir();
    await expect(downloadMnist(other, `http://127.0.0.1:${notFound.port}/`)).rejects.toThrow(/train-images-idx3-ubyte\.gz: HTTP 404/);
  } finally {
    notFound.stop(true);
  }
});
