import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../src/train/wasm-kernels.ts';

type Inputs = Record<string, { values: Float32Array; shape: number[] }>;

let previousBackend = '';
beforeAll(async () => {
  previousBackend = tf.getBackend();
  registerWasmTrainingKernels();
  registerWasmTrainingKernels(); // idempotent: a second call must not wrap BatchMatMul twice
  await tf.setBackend('wasm');
});
afterAll(async () => {
  if (previousBackend) await tf.setBackend(previousBackend);
});

function random(shape: number[], seed: number, relu = false): { values: Float32Array; shape: number[] } {
  const values = tf.tidy(() => {
    const t = tf.randomNormal(shape, 0, 1, 'float32', seed);
    return ((relu ? tf.relu(t) : t).dataSync() as Float32Array).slice();
  });
  return { values, shape };
}

/** Runs one kernel on a backend from plain arrays, so no tensor crosses backends. */
async function runOn(backend: string, kernel: string, inputs: Inputs, attrs: object): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ts = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.values, v.shape)]));
    const out = tf.engine().runKernel(kernel, ts, attrs as tf.NamedAttrMap) as tf.Tensor;
    return out.dataSync() as Float32Array;
  });
}

async function expectSameAsCpu(kernel: string, inputs: Inputs, attrs: object): Promise<void> {
  const ref = await runOn('cpu', kernel, inputs, attrs);
  const got = await runOn('wasm', kernel, inputs, attrs);
  expect(got.length).toBe(ref.length);
  let scale = 1e-6;
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]!));
    err = Math.max(err, Math.abs(got[i]! - ref[i]!));
  }
  expect(err / scale).toBeLessThan(1e-4);
}

const outShape = (x: number[], f: number[], stride: number, pad: 'same' | 'valid'): number[] =>
  tf.backend_util.computeConv2DInfo(x as [number, number, number, number], f as [number, number, number, number], stride, 1, pad).outShape;

// [input NHWC, filter HWIO, stride, pad]
const convCases: [number[], number[], number, 'same' | 'valid'][] = [
  [[1, 5, 5, 1], [3, 3, 1, 2], 1, 'valid'],
  [[2, 7, 9, 3], [3, 3, 3, 4], 1, 'same'],
  [[2, 7, 9, 3], [3, 3, 3, 4], 2, 'same'],
  [[3, 8, 8, 2], [5, 5, 2, 3], 2, 'valid'],
  [[4, 9, 6, 5], [2, 2, 5, 3], 1, 'same'],
  [[2, 10, 10, 4], [1, 1, 4, 6], 2, 'valid'],
  [[16, 28, 28, 1], [3, 3, 1, 32], 1, 'valid'],
  [[8, 13, 13, 32], [3, 3, 32, 64], 1, 'valid'],
  [[8, 14, 14, 16], [3, 3, 16, 8], 2, 'same'],
];

describe('Conv2DBackpropFilter on wasm', () => {
  test('is registered', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });
  for (const [x, f, stride, pad] of convCases) {
    test(`matches cpu for x=${x} filter=${f} stride ${stride} ${pad}`, async () => {
      const dy = outShape(x, f, stride, pad);
      await expectSameAsCpu('Conv2DBackpropFilter', { x: random(x, 1), dy: random(dy, 2) },
        { strides: stride, pad, dataFormat: 'NHWC', filterShape: f });
    });
  }
  test('rejects NCHW and dilations with a clear error', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 5, 5, 1]);
    const dy = tf.zeros([1, 3, 3, 1]);
    expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
      { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 1, 1] })).toThrow(/only dataFormat NHWC/);
    expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
      { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 2, filterShape: [3, 3, 1, 1] })).toThrow(/only dilations 1/);
    tf.dispose([x, dy]);
  });
});

describe('Conv2DBackpropInput on wasm', () => {
  for (const [x, f, stride, pad] of convCases) {
    test(`matches cpu for x=${x} filter=${f} stride ${stride} ${pad}`, async () => {
      const dy = outShape(x, f, stride, pad);
      await expectSameAsCpu('Conv2DBackpropInput', { dy: random(dy, 3), filter: random(f, 4) },
        { strides: stride, pad, dataFormat: 'NHWC', inputShape: x });
    });
  }
});

describe('MaxPoolGrad on wasm', () => {
  const cases: [number[], number, number, 'same' | 'valid'][] = [
    [[2, 6, 6, 3], 2, 2, 'valid'],
    [[2, 7, 7, 3], 2, 2, 'same'],
    [[2, 7, 7, 3], 3, 1, 'same'],
    [[3, 9, 8, 4], 3, 2, 'valid'],
    [[8, 26, 26, 32], 2, 2, 'valid'],
    [[4, 11, 11, 64], 2, 2, 'valid'], // odd size: the last row/column gets no gradient
    [[2, 9, 9, 2], 3, 3, 'valid'],
  ];
  for (const [x, size, stride, pad] of cases) {
    // ReLU'd input: ties at 0 must send the gradient where the cpu backend sends it.
    test(`matches cpu for x=${x} pool ${size} stride ${stride} ${pad}`, async () => {
      const input = random(x, 5, true);
      await tf.setBackend('cpu');
      const output = tf.tidy(() => {
        const y = tf.maxPool(tf.tensor4d(input.values, x as [number, number, number, number]), size, stride, pad);
        return { values: (y.dataSync() as Float32Array).slice(), shape: y.shape };
      });
      await expectSameAsCpu('MaxPoolGrad', { dy: random(output.shape, 6), input, output },
        { filterSize: size, strides: stride, pad });
    });
  }
});

describe('BatchMatMul on wasm', () => {
  const shapes: [number[], number[]][] = [[[7, 5], [5, 3]], [[64, 300], [300, 10]], [[2, 4, 6], [2, 6, 3]]];
  for (const [a, b] of shapes) {
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
      test(`matches cpu for ${a} x ${b} transposeA=${tA} transposeB=${tB}`, async () => {
        const swap = (s: number[]) => [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!];
        await expectSameAsCpu('BatchMatMul', { a: random(tA ? swap(a) : a, 7), b: random(tB ? swap(b) : b, 8) },
          { transposeA: tA, transposeB: tB });
      });
    }
  }
});

describe('training on wasm', () => {
  const tinyModel = () => tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.heUniform({ seed: 1 }) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heUniform({ seed: 2 }) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
  // Class k = a bright 3x3 blob in quadrant k over uniform noise: learnable in a few steps.
  const data = () => {
    const n = 32;
    const px = new Float32Array(n * 144).map((_, i) => ((i * 2654435761) % 1000) / 4000);
    const labels = Array.from({ length: n }, (_, i) => i % 4);
    labels.forEach((k, i) => {
      const r0 = (k >> 1) * 6 + 1 + (i % 3);
      const c0 = (k & 1) * 6 + 1 + ((i >> 2) % 3);
      for (let r = r0; r < r0 + 3; r++) for (let c = c0; c < c0 + 3; c++) px[i * 144 + r * 12 + c] = 1;
    });
    return { x: tf.tensor4d(px, [n, 12, 12, 1]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), 4) };
  };

  test('gradients of a Conv2D model equal the cpu backend\'s', async () => {
    const gradsOn = async (backend: string) => {
      await tf.setBackend(backend);
      const model = tinyModel();
      const { x, y } = data();
      const { grads } = tf.variableGrads(() => tf.metrics.categoricalCrossentropy(y, model.apply(x) as tf.Tensor).mean() as tf.Scalar);
      const out = Object.values(grads).map((g) => (g.dataSync() as Float32Array).slice());
      tf.dispose([x, y, ...Object.values(grads)]);
      model.dispose();
      return out;
    };
    const ref = await gradsOn('cpu');
    const got = await gradsOn('wasm');
    expect(got.length).toBe(ref.length);
    ref.forEach((r, k) => {
      const g = got[k]!;
      const scale = Math.max(1e-6, ...r.map(Math.abs));
      const err = Math.max(...g.map((v, i) => Math.abs(v - r[i]!)));
      expect(err / scale).toBeLessThan(1e-4);
    });
  });

  test('a small Conv2D model learns: loss falls over a few steps', async () => {
    await tf.setBackend('wasm');
    const model = tinyModel();
    const { x, y } = data();
    const opt = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let i = 0; i < 15; i++) {
      const loss = opt.minimize(() => tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar, true)!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.25);
    tf.dispose([x, y]);
    model.dispose();
    opt.dispose();
  });
});

describe('Sum on wasm', () => {
  const cases: [number[], number | number[], boolean][] = [
    [[8, 26, 26, 32], [0, 1, 2], false], [[64, 10], 0, false], [[4, 5, 6], [1, 0], true], [[4, 5, 6], [0, 2], false], [[4, 5, 6], -1, false],
  ];
  for (const [shape, axis, keepDims] of cases) {
    test(`matches cpu for ${shape} axis ${axis} keepDims ${keepDims}`, async () => {
      await expectSameAsCpu('Sum', { x: random(shape, 9) }, { axis, keepDims });
      await tf.setBackend('wasm');
      const expected = tf.tidy(() => tf.sum(tf.zeros(shape), axis, keepDims).shape);
      await tf.setBackend('cpu');
      expect(tf.tidy(() => tf.sum(tf.zeros(shape), axis, keepDims).shape)).toEqual(expected);
    });
  }
});
