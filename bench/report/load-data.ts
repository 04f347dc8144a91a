// The request bodies the load tests send: real MNIST test digits as {"pixels"} and recorded pen strokes
// (UCI pendigits) as {"drawing"}, each with its label so Locust can check every answer.
import { loadSplit } from '../../src/train/mnist.ts';
import { loadHeldOutPendigits, PENDIGITS_BOX, spreadSample } from '../../test/helpers/pendigits.ts';

export interface LabelledBody {
  readonly label: number;
  readonly body: unknown;
}

/** The first `count` test digits (3 decimals a pixel keeps the bodies small and the answers the same). */
export function mnistBodies(mnistDir: string, count: number): LabelledBody[] {
  const test = loadSplit(mnistDir, 'test');
  const n = Math.min(count, test.count);
  return Array.from({ length: n }, (_, i) => ({
    label: test.labels[i] as number,
    body: { pixels: Array.from(test.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 1000) / 1000) },
  }));
}

/** `count` recorded digits spread over the held-out writers (none trained on), as the page would send them. */
export function drawingBodies(count: number): LabelledBody[] {
  return spreadSample(loadHeldOutPendigits(), count).map((sample) => ({
    label: sample.label,
    body: { drawing: { width: PENDIGITS_BOX, height: PENDIGITS_BOX, strokes: sample.strokes } },
  }));
}
