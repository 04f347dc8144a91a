// Step 2: crop to the ink.
import { expect, test } from 'bun:test';
import { cropImage, cropToInk, inkBounds } from '../../src/preprocess/crop.ts';
import { blankImage } from '../../src/preprocess/image.ts';
import { rasteriseStrokes } from '../../src/preprocess/rasterise.ts';

test("a horizontal bar's bounding box is the bar with its round caps", () => {
  const image = rasteriseStrokes([[{ x: 10, y: 20 }, { x: 50, y: 20 }]], 64, 40, 2);
  // Inked pixels have their centre (i + ½) less than radius + ½ from the trace: x in (7.5, 52.5), y in (17.5, 22.5).
  expect(inkBounds(image)).toEqual({ x0: 8, y0: 18, x1: 52, y1: 22 });
});

test('cropping keeps exactly the box, and an image without ink has no bounds', () => {
  const image = blankImage(5, 4);
  image.data[1 * 5 + 2] = 0.5;
  image.data[2 * 5 + 3] = 1;
  const box = inkBounds(image);
  expect(box).toEqual({ x0: 2, y0: 1, x1: 4, y1: 3 });
  const cropped = cropToInk(image);
  expect({ width: cropped.width, height: cropped.height, data: [...cropped.data] }).toEqual({ width: 2, height: 2, data: [0.5, 0, 0, 1] });
  expect(cropImage(image, { x0: 0, y0: 0, x1: 5, y1: 4 }).data).toEqual(image.data);
  expect(inkBounds(blankImage(3, 3))).toBeNull();
  expect(inkBounds(image, 0.6)).toEqual({ x0: 3, y0: 2, x1: 4, y1: 3 });
});
