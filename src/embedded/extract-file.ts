// Writes a file the binary carries to a real directory, for what must be opened by path outside Bun's
// virtual /$bunfs (a shared library, which the dynamic linker reads from disk).
// One copy per content: its folder is named by the content's hash, and the copy is written under a
// temporary name and renamed into place, so processes starting at once never load half a file, and later
// starts find it done. The folders sit in a directory of this user's alone (0700, checked): a library
// loaded from where others can write would run their code.
import { lstat, mkdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EmbeddedFile {
  /** Where the binary carries it (a /$bunfs/ path), or any readable path. */
  readonly path: string;
  /** The name the copy must have. */
  readonly fileName: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** Resolves with the copy's path on disk (under `under`/stratus-<uid>), written now or by an earlier start. */
export async function extractEmbeddedFile(file: EmbeddedFile, under: string = tmpdir()): Promise<string> {
  const folder = join(await privateDirectory(under), file.sha256.slice(0, 16));
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const target = join(folder, file.fileName);
  // The folder is named by the content and only ever receives whole files: the right size means done.
  if ((await stat(target).catch(() => null))?.size === file.bytes) return target;
  const partial = `${target}.${process.pid}-${crypto.randomUUID().slice(0, 8)}.partial`;
  try {
    const written = await Bun.write(partial, Bun.file(file.path));
    if (written !== file.bytes) throw new Error(`wrote ${written} of ${file.bytes} bytes to ${partial}`);
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
  return target;
}

/** <under>/stratus-<uid>: created 0700, and refused if someone else owns it or may write to it. */
async function privateDirectory(under: string): Promise<string> {
  const uid = process.getuid?.();
  const directory = join(under, `stratus-${uid ?? 'user'}`);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const info = await lstat(directory);
  if (!info.isDirectory()) throw new Error(`${directory} is not a directory`);
  if ((uid !== undefined && info.uid !== uid) || (info.mode & 0o022) !== 0) {
    throw new Error(`${directory} is not private to this user (owner ${info.uid}, mode ${(info.mode & 0o777).toString(8)}): refusing to load a library from it`);
  }
  return directory;
}
