// A trained model directory as a registry version: model.onnx goes with it when the trainer wrote one,
// into the store (--publish) and over HTTP as onnxBase64 (--publish-url); the embedded model has none.
import { afterEach, expect, test } from 'bun:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelDirectory, publishOverHttp, readEmbeddedVersion, readTrainedModel } from '../../src/model/publish.ts';
import { Secret } from '../../src/secret.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A directory laid out as the trainer writes it; the files' contents do not matter here. */
async function trainedDirectory(modelOnnx?: Uint8Array): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stratus-publish-'));
  dirs.push(dir);
  await writeFile(join(dir, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['weights.bin'], weights: [] }] }));
  await writeFile(join(dir, 'weights.bin'), new Uint8Array([1, 2, 3, 4]));
  await writeFile(join(dir, 'metadata.json'), JSON.stringify({ version: 'seed-20261210-120000', testAccuracy: 0.98 }));
  if (modelOnnx) await writeFile(join(dir, 'model.onnx'), modelOnnx);
  return dir;
}

const ONNX = new Uint8Array(Array.from({ length: 1000 }, (_, i) => (i * 31 + 7) % 256));

test('a directory with model.onnx gives a version that carries it; one without, a version without it', async () => {
  const withOnnx = await readTrainedModel(modelDirectory(await trainedDirectory(ONNX)));
  expect(withOnnx.files.modelOnnx && Buffer.from(withOnnx.files.modelOnnx).equals(ONNX)).toBe(true);
  const without = await readTrainedModel(modelDirectory(await trainedDirectory()));
  expect('modelOnnx' in without.files).toBe(false);
  expect('modelOnnx' in (await readEmbeddedVersion()).files).toBe(false);
});

test('publishing over HTTP sends model.onnx as onnxBase64, and nothing in its place when there is none', async () => {
  const bodies: Record<string, unknown>[] = [];
  // The gateway's side, played: it takes what it is sent and says the version serves.
  const gateway = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const body = (await request.json()) as Record<string, unknown>;
      bodies.push(body);
      return Response.json({ version: body.version, state: 'serving' }, { status: 201 });
    },
  });
  try {
    const token = new Secret('admin-secret');
    expect(await publishOverHttp(gateway.url.href, token, await readTrainedModel(modelDirectory(await trainedDirectory(ONNX))))).toBe('serving');
    expect(await publishOverHttp(gateway.url.href, token, await readTrainedModel(modelDirectory(await trainedDirectory())))).toBe('serving');
  } finally {
    await gateway.stop(true);
  }
  expect(bodies[0]).toMatchObject({ version: 'seed-20261210-120000', weightsBase64: 'AQIDBA==', onnxBase64: Buffer.from(ONNX).toString('base64') });
  expect(bodies[1]).toMatchObject({ weightsBase64: 'AQIDBA==' });
  expect(bodies[1]).not.toHaveProperty('onnxBase64');
});
