// `--download`: fetches the MNIST files a directory lacks from a mirror and keeps them only if their
// md5 is the published one, so a truncated transfer or a wrong mirror never reaches training.
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { missingMnistFiles, type SplitName } from './mnist.ts';

/** The md5 sums of the official distribution (the same on every well-known mirror). */
export const MNIST_MD5: Readonly<Record<string, string>> = {
  'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
  'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
  't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
  't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
};

export const DEFAULT_MNIST_URL = 'https://ossci-datasets.s3.amazonaws.com/mnist/';

export class MnistDownloadError extends Error {
  override readonly name = 'MnistDownloadError';
}

/**
 * Downloads the missing files of `splits` into `dir` and returns the names it fetched (empty when none was
 * missing). A file present in either form (gzipped or unpacked) is left alone: it may be the user's own copy.
 * Each file goes to a temporary name first and is renamed once its md5 matches: an interrupted or
 * corrupt download leaves nothing that a later run would mistake for the real file.
 */
export async function downloadMnist(
  dir: string,
  baseUrl: string,
  onFile: (file: string, bytes: number) => void = () => {},
  splits: readonly SplitName[] = ['train', 'test'],
): Promise<string[]> {
  const missing = missingMnistFiles(dir, splits).map((name) => `${name}.gz`);
  if (missing.length === 0) return [];
  await mkdir(dir, { recursive: true });
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  for (const file of missing) {
    const url = new URL(file, base).href;
    let response: Response;
    try {
      response = await fetch(url);
    } catch (error) {
      throw new MnistDownloadError(`cannot download ${url}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!response.ok) throw new MnistDownloadError(`cannot download ${url}: HTTP ${response.status}`);
    const body = new Uint8Array(await response.arrayBuffer());
    const partial = join(dir, `.${file}.${process.pid}.part`);
    await writeFile(partial, body);
    const md5 = createHash('md5').update(body).digest('hex');
    if (md5 !== MNIST_MD5[file]) {
      await rm(partial, { force: true });
      throw new MnistDownloadError(`${url} has md5 ${md5}, expected ${MNIST_MD5[file]}: corrupt download or wrong mirror, nothing kept`);
    }
    await rename(partial, join(dir, file));
    onFile(file, body.length);
  }
  return missing;
}
