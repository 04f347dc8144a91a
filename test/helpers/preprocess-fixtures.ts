// The drawings of test/fixtures/preprocess/drawings.json and the images the server must make of them:
// written once by scripts/make-preprocess-fixtures.ts and reviewed, so tests compare the server's pixels
// with values that do not come from the code under test.
import { resolve } from 'node:path';
import type { Drawing } from '../../src/preprocess/drawing.ts';

export interface FixtureCase {
  readonly name: string;
  readonly drawing: Drawing;
  readonly longerSides: number[];
  /** 28 rows of two hex digits a pixel, 0..255; and the same as text, for review. */
  readonly images: { hex: string[]; preview: string[] }[];
}

export const PREPROCESS_FIXTURE = resolve(import.meta.dir, '../fixtures/preprocess/drawings.json');

export async function preprocessFixtures(): Promise<FixtureCase[]> {
  return ((await Bun.file(PREPROCESS_FIXTURE).json()) as { cases: FixtureCase[] }).cases;
}

export async function preprocessFixture(name: string): Promise<FixtureCase> {
  const found = (await preprocessFixtures()).find((c) => c.name === name);
  if (!found) throw new Error(`no fixture case named ${name} in ${PREPROCESS_FIXTURE}`);
  return found;
}
