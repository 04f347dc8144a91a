// Adam's update of a run of float32 parameters as a WebAssembly SIMD function, written here as its bytes.
// A JavaScript loop spends ~5 ns a parameter on the square root and the division in float64, one element at
// a time: ~2.5 ms a step for the seed arch's 542k parameters, a fifth of a step whose gradients ONNX Runtime
// computes in ~10 ms. Four lanes of float32 do the same arithmetic (IEEE float32, rounded per operation
// alike in every lane and in the scalar tail) in a fraction of it.
// The function works on whatever memory it is instantiated with: tfjs's wasm heap, where FastAdam's tensors
// live, or a memory of its own (ShardedAdam's slice).

/** Byte offsets into the memory; `into` may equal `from` (each element is read before it is written). */
export interface AdamOffsets {
  readonly values: number;
  readonly m: number;
  readonly v: number;
  readonly gradient: number;
  readonly intoValues: number;
  readonly intoM: number;
  readonly intoV: number;
}

/** The update's constants: m' = β1·m + g1·g, v' = β2·v + g2·g·g, w' = w − step·m' / (√v'·unbias2 + ε). */
export interface AdamConstants {
  readonly beta1: number;
  readonly beta2: number;
  readonly g1: number;
  readonly g2: number;
  readonly step: number;
  readonly unbias2: number;
  readonly epsilon: number;
}

export type AdamKernel = (at: AdamOffsets, count: number, c: AdamConstants) => void;

type RawAdam = (...args: number[]) => void;

const kernels = new WeakMap<WebAssembly.Memory, AdamKernel>();
let compiled: WebAssembly.Module | null = null;

/** The kernel over `memory` (one instance per memory). */
export function adamKernel(memory: WebAssembly.Memory): AdamKernel {
  let kernel = kernels.get(memory);
  if (!kernel) {
    compiled ??= new WebAssembly.Module(adamModuleBytes());
    const raw = new WebAssembly.Instance(compiled, { env: { memory } }).exports.adam as RawAdam;
    kernel = (at, count, c) => raw(at.values, at.m, at.v, at.gradient, at.intoValues, at.intoM, at.intoV, count, c.beta1, c.beta2, c.g1, c.g2, c.step, c.unbias2, c.epsilon);
    kernels.set(memory, kernel);
  }
  return kernel;
}

// --- the module's bytes (WebAssembly binary format 1.0 with the fixed-width SIMD proposal) ---

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

// Parameters: 0..7 i32 (values, m, v, gradient, intoValues, intoM, intoV byte offsets; count),
// 8..14 f32 (beta1, beta2, g1, g2, step, unbias2, epsilon). Locals after them:
const AT = 15; // byte offset of the current element
const END4 = 16; // bytes covered four lanes at a time
const END = 17; // bytes in all
const SPLAT = 18; // 18..24: the seven constants, each in four lanes
const G = 25;
const M = 26;
const V = 27;
const GS = 28; // the scalar tail's g, m', v'
const MS = 29;
const VS = 30;
const [VALUES, MOMENT1, MOMENT2, GRADIENT, INTO_VALUES, INTO_M, INTO_V, COUNT] = [0, 1, 2, 3, 4, 5, 6, 7];
const [BETA1, BETA2, G1, G2, STEP, UNBIAS2, EPSILON] = [8, 9, 10, 11, 12, 13, 14];

const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  get: (index: number) => [0x20, index],
  set: (index: number) => [0x21, index],
  i32: (value: number) => [0x41, ...signedLeb(value)],
  i32And: [0x71],
  i32Shl: [0x74],
  i32Add: [0x6a],
  i32GeU: [0x4f],
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  f32Add: [0x92],
  f32Sub: [0x93],
  f32Mul: [0x94],
  f32Div: [0x95],
  f32Sqrt: [0x91],
  v128Load: [0xfd, 0x00, 0, 0],
  v128Store: [0xfd, 0x0b, 0, 0],
  f32x4Splat: [0xfd, 0x13],
  f32x4Sqrt: [0xfd, 0xe3, 0x01],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Sub: [0xfd, 0xe5, 0x01],
  f32x4Mul: [0xfd, 0xe6, 0x01],
  f32x4Div: [0xfd, 0xe7, 0x01],
};

/** The element at byte offset AT of the array starting at byte offset `base`: its address on the stack. */
const address = (base: number) => [...op.get(base), ...op.get(AT), ...op.i32Add];

/** The update of one element (scalar) or four (lanes): the same operations in the same order. */
function update(lanes: boolean): number[] {
  const [load, store, add, sub, mul, div, sqrt] = lanes
    ? [op.v128Load, op.v128Store, op.f32x4Add, op.f32x4Sub, op.f32x4Mul, op.f32x4Div, op.f32x4Sqrt]
    : [op.f32Load, op.f32Store, op.f32Add, op.f32Sub, op.f32Mul, op.f32Div, op.f32Sqrt];
  const constant = (param: number) => op.get(lanes ? SPLAT + (param - BETA1) : param);
  const [g, m, v] = lanes ? [G, M, V] : [GS, MS, VS];
  return [
    ...address(GRADIENT), ...load, ...op.set(g),
    // m' = β1·m + g1·g
    ...constant(BETA1), ...address(MOMENT1), ...load, ...mul, ...constant(G1), ...op.get(g), ...mul, ...add, ...op.set(m),
    // v' = β2·v + (g2·g)·g
    ...constant(BETA2), ...address(MOMENT2), ...load, ...mul, ...constant(G2), ...op.get(g), ...mul, ...op.get(g), ...mul, ...add, ...op.set(v),
    ...address(INTO_M), ...op.get(m), ...store,
    ...address(INTO_V), ...op.get(v), ...store,
    // w' = w − (step·m') / (√v'·unbias2 + ε)
    ...address(INTO_VALUES), ...address(VALUES), ...load,
    ...constant(STEP), ...op.get(m), ...mul,
    ...op.get(v), ...sqrt, ...constant(UNBIAS2), ...mul, ...constant(EPSILON), ...add,
    ...div, ...sub, ...store,
  ];
}

/** `for (; AT < end; AT += stride) body` */
const loopUntil = (end: number, stride: number, body: number[]) => [
  ...op.block, ...op.loop,
  ...op.get(AT), ...op.get(end), ...op.i32GeU, ...op.brIf(1),
  ...body,
  ...op.get(AT), ...op.i32(stride), ...op.i32Add, ...op.set(AT),
  ...op.br(0), ...op.end, ...op.end,
];

function adamBody(): number[] {
  const splats = [BETA1, BETA2, G1, G2, STEP, UNBIAS2, EPSILON].flatMap((param, k) => [...op.get(param), ...op.f32x4Splat, ...op.set(SPLAT + k)]);
  return [
    ...op.get(COUNT), ...op.i32(-4), ...op.i32And, ...op.i32(2), ...op.i32Shl, ...op.set(END4),
    ...op.get(COUNT), ...op.i32(2), ...op.i32Shl, ...op.set(END),
    ...splats,
    ...loopUntil(END4, 16, update(true)),
    ...loopUntil(END, 4, update(false)),
    ...op.end,
  ];
}

function adamModuleBytes(): Uint8Array<ArrayBuffer> {
  const locals = [3, I32, 10, V128, 3, F32];
  const body = [locals.length / 2, ...locals, ...adamBody()];
  const type = [0x60, 15, ...Array<number>(8).fill(I32), ...Array<number>(7).fill(F32), 0];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, ...type]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('adam'), 0x00, 0]),
    ...section(10, [1, ...unsignedLeb(body.length), ...body]),
  ]);
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsignedLeb(bytes.length), ...bytes];
}

function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    out.push(rest ? byte | 0x80 : byte);
  } while (rest);
  return out;
}

function signedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}
