// Both engines behind the one interface the consumer uses: the embedded model started on either, on the
// calling thread or in the inference worker, passes the smoke check and reads what the other reads.
import { describe, expect, test } from 'bun:test';
import { chooseEngine } from '../../src/model/engine-choice.ts';
import { ENGINES, type EngineName } from '../../src/model/engines.ts';
import { InlineClassifier } from '../../src/model/inline-classifier.ts';
import { readEmbeddedModel } from '../../src/model/model-source.ts';
import { smokeCheck } from '../../src/model/smoke-check.ts';
import { WorkerClassifier, type Predictor } from '../../src/model/worker-classifier.ts';
import { argmax, CLASSES, PIXELS } from '../../src/protocol/image.ts';
import { loadSplit } from '../../src/train/mnist.ts';
import { INFERENCE_WORKER } from '../../src/workers.ts';
import { MNIST_DIR } from '../helpers/data.ts';

const mnist = loadSplit(MNIST_DIR, 'test');
const COUNT = 500;

const start: Record<'inline' | 'worker', (engine: EngineName) => Promise<Predictor>> = {
  inline: async (engine) => InlineClassifier.start(engine, await readEmbeddedModel()),
  worker: async (engine) => WorkerClassifier.start(INFERENCE_WORKER, engine, await readEmbeddedModel()),
};

async function digitsOf(predictor: Predictor): Promise<number[]> {
  // A copy: the worker takes the buffer it is given.
  const probabilities = await predictor.predict(mnist.images.slice(0, COUNT * PIXELS), COUNT);
  return Array.from({ length: COUNT }, (_, i) => argmax(probabilities, i * CLASSES, CLASSES));
}

test('the default is onnx where ONNX Runtime loads, as it does here from node_modules; an engine named is that engine', async () => {
  expect(await chooseEngine(null)).toEqual({ engine: 'onnx', fallbackReason: null });
  expect(await chooseEngine('onnx')).toEqual({ engine: 'onnx', fallbackReason: null });
  expect(await chooseEngine('wasm')).toEqual({ engine: 'wasm', fallbackReason: null });
});

describe.each(['inline', 'worker'] as const)('%s', (where) => {
  test('each engine passes the smoke check, says which it is, and the two read the same digits', async () => {
    const digits: number[][] = [];
    for (const engine of ENGINES) {
      const predictor = await start[where](engine);
      try {
        expect(predictor.engine).toBe(engine);
        expect(predictor.version).toBe((await readEmbeddedModel()).version);
        expect((await smokeCheck(predictor)).accuracy).toBeGreaterThanOrEqual(0.9);
        digits.push(await digitsOf(predictor));
      } finally {
        await predictor.close();
      }
      expect(predictor.alive).toBe(false);
    }
    expect(digits[0]).toEqual(digits[1] as number[]);
    expect((digits[0] as number[]).filter((digit, i) => digit === mnist.labels[i]).length).toBeGreaterThanOrEqual(0.98 * COUNT);
  }, 30_000);
});
