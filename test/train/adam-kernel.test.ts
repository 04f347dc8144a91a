// The WebAssembly SIMD Adam update (src/train/adam-kernel.ts): every element, in the four-lane part and in
// the scalar tail alike, is what float32 arithmetic in the same order gives, and `into` may be `from`.
import { expect, test } from 'bun:test';
import { adamKernel, type AdamConstants } from '../../src/train/adam-kernel.ts';
import { seededRandom } from '../../src/train/random.ts';

const f = Math.fround;

/** The reference: one element at a time, each operation rounded to float32. */
function reference(w: number, m: number, v: number, g: number, c: AdamConstants): [number, number, number] {
  const m2 = f(f(f(c.beta1) * m) + f(f(c.g1) * g));
  const v2 = f(f(f(c.beta2) * v) + f(f(f(c.g2) * g) * g));
  const denominator = f(f(f(Math.sqrt(v2)) * f(c.unbias2)) + f(c.epsilon));
  return [f(w - f(f(f(c.step) * m2) / denominator)), m2, v2];
}

test('the kernel takes the float32 Adam step of every element, lanes and tail alike, in place or not', () => {
  const count = 4 * 50 + 3;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const floats = new Float32Array(memory.buffer);
  const random = seededRandom(9);
  // Regions of `count` floats: values, m, v, gradient, then the three outputs; offsets not 16-aligned.
  const base = (k: number) => 1 + k * count;
  for (let k = 0; k < 4; k++) for (let i = 0; i < count; i++) floats[base(k) + i] = k === 2 ? random() * 0.01 : random() - 0.5;
  const before = floats.slice(base(0), base(4));
  const c: AdamConstants = { beta1: 0.9, beta2: 0.999, g1: 0.1, g2: 0.001, step: 0.00137, unbias2: 31.6, epsilon: 1e-7 };
  const kernel = adamKernel(memory);
  const bytes = (k: number) => base(k) * 4;
  kernel({ values: bytes(0), m: bytes(1), v: bytes(2), gradient: bytes(3), intoValues: bytes(4), intoM: bytes(5), intoV: bytes(6) }, count, c);
  for (let i = 0; i < count; i++) {
    const [w, m, v] = reference(before[i]!, before[count + i]!, before[2 * count + i]!, before[3 * count + i]!, c);
    expect([floats[base(4) + i], floats[base(5) + i], floats[base(6) + i]]).toEqual([w, m, v]);
    expect(w).not.toBe(before[i]);
  }
  const outputs = floats.slice(base(4), base(7));
  // In place: the same results, written over the inputs.
  kernel({ values: bytes(0), m: bytes(1), v: bytes(2), gradient: bytes(3), intoValues: bytes(0), intoM: bytes(1), intoV: bytes(2) }, count, c);
  expect(floats.slice(base(0), base(3))).toEqual(outputs);
});
