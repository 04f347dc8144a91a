// The whole pipeline on real handwriting: if a preprocessing step breaks (flipped axis, lost centring,
// wrong scale), pendigits accuracy falls from ~95 % towards chance. Figures: bench/pendigits.ts.
import { expect, test } from 'bun:test';
import { Classifier } from '../../src/model/classifier.ts';
import { readEmbeddedModel } from '../../src/model/model-source.ts';
import { argmax, PIXELS } from '../../src/protocol/image.ts';
import { initWasmBackend } from '../../src/model/wasm-backend.ts';
import { drawingToPixels } from '../../src/preprocess/mnist-style.ts';
import { loadPendigits, PENDIGITS_BOX, spreadSample } from '../helpers/pendigits.ts';

test('the embedded model reads ≥ 90 % of 200 pendigits digits drawn through drawingToPixels', async () => {
  await initWasmBackend();
  const classifier = await Classifier.load(await readEmbeddedModel());
  const samples = spreadSample(loadPendigits(), 200);
  const images = new Float32Array(samples.length * PIXELS);
  samples.forEach((s, i) => images.set(drawingToPixels({ width: PENDIGITS_BOX, height: PENDIGITS_BOX, strokes: s.strokes }), i * PIXELS));
  const probabilities = classifier.predict(images, samples.length);
  const correct = samples.filter((s, i) => argmax(probabilities, i * 10, 10) === s.label).length;
  classifier.dispose();
  expect(correct / samples.length).toBeGreaterThanOrEqual(0.9);
}, 60_000);
