// An embedded file written to disk for the dynamic linker: one whole copy per content, even when several
// processes start at once, in a directory no one else may write to.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { extractEmbeddedFile, type EmbeddedFile } from '../../src/embedded/extract-file.ts';
import { REPO } from '../helpers/process.ts';

const source = join(REPO, 'models/embedded/weights.bin');
const content = await Bun.file(source).bytes();
const weights: EmbeddedFile = {
  path: source,
  fileName: 'weights.bin',
  bytes: content.byteLength,
  sha256: new Bun.CryptoHasher('sha256').update(content).digest('hex'),
};
const privateName = `stratus-${process.getuid?.() ?? 'user'}`;

describe('extractEmbeddedFile', () => {
  let under = '';
  beforeEach(async () => {
    under = await mkdtemp(join(tmpdir(), 'stratus-extract-'));
  });
  afterEach(async () => {
    await rm(under, { recursive: true, force: true });
  });

  test('writes the same bytes into a folder named by their hash, under a directory only this user can enter', async () => {
    const path = await extractEmbeddedFile(weights, under);
    expect(path).toBe(join(under, privateName, weights.sha256.slice(0, 16), 'weights.bin'));
    expect(await Bun.file(path).bytes()).toEqual(content);
    expect((await stat(join(under, privateName))).mode & 0o777).toBe(0o700);
  });

  test('callers starting at once (as processes do) all get the one whole copy, and no partial file is left behind', async () => {
    const paths = await Promise.all(Array.from({ length: 8 }, () => extractEmbeddedFile(weights, under)));
    expect(new Set(paths).size).toBe(1);
    const path = paths[0] as string;
    expect(await Bun.file(path).bytes()).toEqual(content);
    expect(await readdir(dirname(path))).toEqual(['weights.bin']);
  });

  test('a later start reuses the copy instead of writing it again', async () => {
    const path = await extractEmbeddedFile(weights, under);
    // Dated far back, so that a copy written again is told from this one by its date whatever the
    // file system's timestamp resolution, and by its inode (a copy is renamed into place).
    const longAgo = new Date('2001-01-01T00:00:00Z');
    await utimes(path, longAgo, longAgo);
    const first = await stat(path);
    expect(await extractEmbeddedFile(weights, under)).toBe(path);
    const second = await stat(path);
    expect(second.mtimeMs).toBe(longAgo.getTime());
    expect(second.ino).toBe(first.ino);
  });

  test('a cut-short copy (the wrong size) is replaced', async () => {
    const path = await extractEmbeddedFile(weights, under);
    await Bun.write(path, content.subarray(0, 100));
    await extractEmbeddedFile(weights, under);
    expect(await Bun.file(path).bytes()).toEqual(content);
  });

  test('refuses a directory others may write to: a library loaded from there would run their code', async () => {
    await mkdir(join(under, privateName));
    await chmod(join(under, privateName), 0o777);
    await expect(extractEmbeddedFile(weights, under)).rejects.toThrow(`${join(under, privateName)} is not private to this user`);
  });
});
