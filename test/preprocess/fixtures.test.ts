// The server's preprocessing against images fixed in test/fixtures/preprocess/drawings.json: expected
// pixels that do not come from the code under test. The fixture was written once by
// scripts/make-preprocess-fixtures.ts and reviewed; here it is first held to MNIST's framing with
// measures of this suite's own (mnist-framing.ts), then drawingToDigitImages (what the gateway runs on a
// drawing) is held to it.
import { describe, expect, test } from 'bun:test';
import { drawingToDigitImages } from '../../src/preprocess/digit-images.ts';
import { preprocessFixtures } from '../helpers/preprocess-fixtures.ts';
import { framingProblems, fromHexRows, preview } from './mnist-framing.ts';

const cases = await preprocessFixtures();
/** Per pixel, in steps of 1/255: room for a change in rounding or summation order, not in the drawing
 * (a pen 10 % thinner or a shift of one pixel moves many pixels by far more). */
const TOLERANCE = 2;

describe('preprocessing fixtures', () => {
  test('hold several drawings, one of them a number', () => {
    expect(cases.length).toBeGreaterThanOrEqual(5);
    expect(cases.some((c) => c.images.length > 1)).toBe(true);
  });

  test.each(cases.map((c) => [c.name, c] as const))('%s: the fixed images have MNIST framing and match their preview', (_, c) => {
    expect(c.images).toHaveLength(c.longerSides.length);
    c.images.forEach((image, i) => {
      const bytes = fromHexRows(image.hex);
      expect({ image: i, problems: framingProblems(bytes, c.longerSides[i]) }).toEqual({ image: i, problems: [] });
      // The preview is what a reviewer looked at: it must show these bytes.
      expect(preview(bytes)).toEqual(image.preview);
    });
  });

  test.each(cases.map((c) => [c.name, c] as const))(`%s: the server's images are the fixed ones, within ${TOLERANCE}/255 a pixel`, (_, c) => {
    const { pixels, count } = drawingToDigitImages(c.drawing);
    expect(count).toBe(c.images.length);
    c.images.forEach((image, i) => {
      const expected = fromHexRows(image.hex);
      const off: string[] = [];
      for (let p = 0; p < 784; p++) {
        const got = Math.round((pixels[i * 784 + p] as number) * 255);
        if (Math.abs(got - (expected[p] as number)) > TOLERANCE) off.push(`(${p % 28}, ${Math.floor(p / 28)}): ${got}, fixed ${expected[p]}`);
      }
      expect({ image: i, off: off.slice(0, 10), count: off.length }).toEqual({ image: i, off: [], count: 0 });
    });
  });
});
