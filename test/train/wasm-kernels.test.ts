import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { FastAdam, setLearningRate } from '../../src/train/fast-adam.ts';
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
  // Many filters over one channel: the filter gradient takes its transposed (flipped) product.
  [[2, 7, 9, 1], [3, 3, 1, 16], 2, 'same'],
  [[3, 6, 6, 2], [2, 2, 2, 24], 1, 'valid'],
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
    }, 60_000);
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
    }, 60_000);
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
    [[2, 5, 5, 3], 2, 1, 'valid'], // overlapping 2x2 windows: the unrolled path with stride 1
    [[2, 6, 7, 3], 2, 2, 'same'], // 2x2 windows that hang over the edge take the general path
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
    }, 60_000);
  }
});

describe('BatchMatMul on wasm', () => {
  // [3,200]x[200,40] untransposed takes the flipped product the first time B is seen.
  const shapes: [number[], number[]][] = [[[7, 5], [5, 3]], [[64, 300], [300, 10]], [[2, 4, 6], [2, 6, 3]], [[3, 200], [200, 40]]];
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

describe('BatchMatMul with the same right operand twice', () => {
  test('the first (flipped, unpacked) and second (XNNPACK-cached) products both equal cpu', async () => {
    const a = random([3, 200], 11);
    const b = random([200, 40], 12);
    const ref = await runOn('cpu', 'BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
    await tf.setBackend('wasm');
    const [ta, tb] = [tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape)];
    for (let i = 0; i < 3; i++) {
      const got = tf.tidy(() => tf.matMul(ta, tb).dataSync() as Float32Array);
      const err = Math.max(...got.map((v, k) => Math.abs(v - ref[k]!)));
      expect(err).toBeLessThan(1e-4 * Math.max(...ref.map(Math.abs)));
    }
    tf.dispose([ta, tb]);
  });
});

describe('Identity on wasm', () => {
  test('a clone keeps its values after the original is disposed', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor([1, -2, 3.5, 4], [2, 2]);
    const y = tf.clone(x);
    x.dispose();
    const z = tf.add(y, 1);
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3.5, 4]);
    expect(Array.from(z.dataSync())).toEqual([2, -1, 4.5, 5]);
    tf.dispose([y, z]);
  });
});

describe('Cast on wasm', () => {
  test('to its own dtype shares values; to another dtype converts', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor([1.5, -2, 0, 3], [4]);
    const same = tf.cast(x, 'float32');
    const ints = tf.cast(x, 'int32');
    x.dispose();
    expect(Array.from(same.dataSync())).toEqual([1.5, -2, 0, 3]);
    expect(Array.from(ints.dataSync())).toEqual([1, -2, 0, 3]);
    expect(ints.dtype).toBe('int32');
    tf.dispose([same, ints]);
  });
});

describe('FastAdam', () => {
  const lossOf = (w: tf.Variable, b: tf.Variable, x: tf.Tensor, y: tf.Tensor) => () =>
    tf.losses.meanSquaredError(y, tf.add(tf.matMul(x, w), b)) as tf.Scalar;
  const run = async (backend: string, fast: boolean) => {
    await tf.setBackend(backend);
    const w = tf.variable(tf.tensor(random([6, 3], 21).values, [6, 3]), true, `w_${backend}_${fast}`);
    const b = tf.variable(tf.zeros([3]), true, `b_${backend}_${fast}`);
    const x = tf.tensor(random([16, 6], 22).values, [16, 6]);
    const y = tf.tensor(random([16, 3], 23).values, [16, 3]);
    const opt = fast ? new FastAdam(0.05) : tf.train.adam(0.05);
    for (let i = 0; i < 12; i++) {
      // setLearningRate decays the rate in place between epochs; FastAdam must read it as tfjs' Adam does.
      if (i === 6) setLearningRate(opt, 0.02);
      opt.minimize(lossOf(w, b, x, y));
    }
    const weights = await opt.getWeights();
    const out = {
      w: (w.dataSync() as Float32Array).slice(),
      b: (b.dataSync() as Float32Array).slice(),
      state: weights.map((t) => t.name.replace(`_${fast}`, '')),
      iterations: weights[0]!.tensor.dataSync()[0],
    };
    tf.dispose([w, b, x, y]);
    opt.dispose();
    return out;
  };
  const close = (got: Float32Array, ref: Float32Array) => {
    const scale = Math.max(1e-6, ...ref.map(Math.abs));
    expect(Math.max(...got.map((v, i) => Math.abs(v - ref[i]!))) / scale).toBeLessThan(1e-5);
  };

  test('on wasm it takes the same steps as tf.train.adam, and keeps the same optimizer state', async () => {
    const ref = await run('wasm', false);
    const got = await run('wasm', true);
    close(got.w, ref.w);
    close(got.b, ref.b);
    expect(got.state).toEqual(ref.state);
    expect(got.iterations).toBe(12);
    // The run moved the weights: equality above is not two untouched copies.
    expect(Math.max(...got.b.map(Math.abs))).toBeGreaterThan(0.01);
  });

  test('on cpu it falls back to the stock update', async () => {
    const ref = await run('cpu', false);
    const got = await run('cpu', true);
    close(got.w, ref.w);
    close(got.b, ref.b);
  });
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

describe('in a Bun Worker', () => {
  // Self-contained (no closure variables): the worker gets it through Function.prototype.toString.
  async function trainSteps(t: typeof tf, Adam: typeof FastAdam): Promise<number[]> {
    const model = t.sequential({
      layers: [
        t.layers.conv2d({ inputShape: [10, 10, 1], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: t.initializers.heUniform({ seed: 5 }) }),
        t.layers.maxPooling2d({ poolSize: 2 }),
        t.layers.flatten(),
        t.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: t.initializers.glorotUniform({ seed: 6 }) }),
      ],
    });
    const n = 12;
    const x = t.tensor4d(Float32Array.from({ length: n * 100 }, (_, i) => ((i * 7919) % 101) / 101), [n, 10, 10, 1]);
    const y = t.oneHot(t.tensor1d(Array.from({ length: n }, (_, i) => i % 3), 'int32'), 3);
    const opt = new Adam(0.01);
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const loss = opt.minimize(() => t.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar, true)!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    t.dispose([x, y]);
    model.dispose();
    opt.dispose();
    return losses;
  }

  test('the kernels register in a worker\'s own tfjs and train exactly as on the main thread', async () => {
    const src = (path: string) => new URL(path, import.meta.url).pathname;
    const code = `
      import * as tf from '@tensorflow/tfjs';
      import { initWasmBackend } from '${src('../../src/model/wasm-backend.ts')}';
      import { registerWasmTrainingKernels } from '${src('../../src/train/wasm-kernels.ts')}';
      import { FastAdam } from '${src('../../src/train/fast-adam.ts')}';
      await initWasmBackend();
      registerWasmTrainingKernels();
      const registered = ['Conv2DBackpropFilter', 'MaxPoolGrad'].every((k) => tf.getKernel(k, 'wasm') !== undefined);
      const losses = await (${trainSteps.toString()})(tf, FastAdam);
      postMessage({ backend: tf.getBackend(), registered, losses });
    `;
    const worker = new Worker(URL.createObjectURL(new Blob([code], { type: 'application/typescript' })));
    const reply = await new Promise<{ backend: string; registered: boolean; losses: number[] }>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(e.message));
    }).finally(() => worker.terminate());
    await tf.setBackend('wasm');
    const here = await trainSteps(tf, FastAdam);
    expect(reply.backend).toBe('wasm');
    expect(reply.registered).toBe(true);
    expect(reply.losses).toEqual(here);
    expect(here[4]!).toBeLessThan(here[0]!);
  }, 60_000);
});
