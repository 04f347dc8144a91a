// The image is built from what .dockerignore lets into the build context. CI type-checks the whole tree,
// where a shipped file importing test/ or bench/ would still resolve; the image build would then fail.
import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const REPO = resolve(import.meta.dir, '../..');

/** The top-level names .dockerignore leaves out (it holds plain names and globs, one per line). */
function ignoredTopLevel(): string[] {
  return readFileSync(resolve(REPO, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.includes('*'));
}

test('the Dockerfile type-checks tsconfig.build.json, whose files all lie inside the build context', () => {
  expect(readFileSync(resolve(REPO, 'Dockerfile'), 'utf8')).toContain('tsc --noEmit -p tsconfig.build.json');
  const ignored = ignoredTopLevel();
  expect(ignored).toEqual(expect.arrayContaining(['test', 'bench', 'ops']));
  const listed = Bun.spawnSync(['bun', 'x', 'tsc', '--noEmit', '-p', 'tsconfig.build.json', '--listFilesOnly'], { cwd: REPO });
  expect(listed.exitCode).toBe(0);
  const ours = listed.stdout
    .toString()
    .split('\n')
    .filter((line) => line !== '')
    .map((file) => relative(REPO, file))
    .filter((file) => !file.startsWith('node_modules/'));
  expect(ours).toContain('scripts/build.ts');
  expect(ours).toContain('src/main.ts');
  const outside = ours.filter((file) => ignored.includes(file.split('/')[0] as string));
  expect(outside).toEqual([]);
});
