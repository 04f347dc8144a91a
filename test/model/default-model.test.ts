// The model embedded in the binary, checked on the whole MNIST test set, as its metadata claims.
import { expect, test } from 'bun:test';
import { Classifier } from '../../src/model/classifier.ts';
import { argmax } from '../../src/protocol/image.ts';
import { readEmbeddedModel } from '../../src/model/model-source.ts';
import { initWasmBackend } from '../../src/model/wasm-backend.ts';
import { loadSplit } from '../../src/train/mnist.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import metadata from '../../models/embedded/metadata.json' with { type: 'json' };

test('the embedded default model reaches ≥ 99.0 % on the 10,000 MNIST test digits', async () => {
  await initWasmBackend();
  const source = await readEmbeddedModel();
  expect(source.version).toBe(metadata.version);
  const classifier = await Classifier.load(source);
  const mnist = loadSplit(MNIST_DIR, 'test');
  const batch = 500;
  let correct = 0;
  for (let start = 0; start < mnist.count; start += batch) {
    const probabilities = classifier.predict(mnist.images.subarray(start * 784, (start + batch) * 784), batch);
    for (let i = 0; i < batch; i++) if (argmax(probabilities, i * 10, 10) === mnist.labels[start + i]) correct++;
  }
  const accuracy = correct / mnist.count;
  expect(accuracy).toBeGreaterThanOrEqual(0.99);
  expect(accuracy).toBeCloseTo(metadata.testAccuracy, 3);
  classifier.dispose();
}, 60_000);
