// The protobuf writer against the wire format's documented examples, and an exported model read back
// field by field with a reader written here: what onnxruntime parses is what the exporter meant to write.
import { describe, expect, test } from 'bun:test';
import { readEmbeddedModel } from '../../src/model/model-source.ts';
import { exportToOnnx } from '../../src/model/onnx/export-onnx.ts';
import { encodeVarint, ProtobufWriter } from '../../src/model/onnx/protobuf-writer.ts';

type FieldValue = number | Uint8Array;

/** A message's fields by number, each field's values in the order written. Varints and length-delimited only. */
function decode(bytes: Uint8Array): Map<number, FieldValue[]> {
  const fields = new Map<number, FieldValue[]>();
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let scale = 1; ; scale *= 0x80) {
      const byte = bytes[at++];
      if (byte === undefined) throw new Error('truncated varint');
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    let value: FieldValue;
    if (wireType === 0) value = varint();
    else if (wireType === 2) {
      const length = varint();
      value = bytes.subarray(at, at + length);
      if (value.length !== length) throw new Error('truncated field');
      at += length;
    } else throw new Error(`unexpected wire type ${wireType}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const text = (value: FieldValue | undefined) => new TextDecoder().decode(value as Uint8Array);
const messages = (fields: Map<number, FieldValue[]>, field: number) => (fields.get(field) ?? []).map((v) => decode(v as Uint8Array));
const one = (fields: Map<number, FieldValue[]>, field: number) => fields.get(field)?.[0];

const source = await readEmbeddedModel();

describe('the protobuf writer', () => {
  test('encodes varints as unsigned LEB128, up to 2^53 - 1', () => {
    expect([...encodeVarint(0)]).toEqual([0]);
    expect([...encodeVarint(127)]).toEqual([0x7f]);
    expect([...encodeVarint(128)]).toEqual([0x80, 0x01]);
    expect([...encodeVarint(300)]).toEqual([0xac, 0x02]);
    expect([...encodeVarint(2 ** 32)]).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
    const max = Number.MAX_SAFE_INTEGER;
    expect(one(decode(new ProtobufWriter().varint(1, max).finish()), 1)).toBe(max);
    expect(() => encodeVarint(-1)).toThrow(RangeError);
    expect(() => encodeVarint(1.5)).toThrow(RangeError);
  });

  test('writes the protobuf documentation examples byte for byte', () => {
    // protobuf.dev, "Encoding": Test1 { a: 150 }, Test2 { b: "testing" }, Test3 { c: Test1 { a: 150 } }.
    expect([...new ProtobufWriter().varint(1, 150).finish()]).toEqual([0x08, 0x96, 0x01]);
    expect([...new ProtobufWriter().string(2, 'testing').finish()]).toEqual([0x12, 0x07, ...new TextEncoder().encode('testing')]);
    expect([...new ProtobufWriter().message(3, (m) => m.varint(1, 150)).finish()]).toEqual([0x1a, 0x03, 0x08, 0x96, 0x01]);
  });

  test('writes repeated fields one key per value, in order', () => {
    const fields = decode(new ProtobufWriter().varints(8, [3, 0, 300]).strings(1, ['a', 'bc']).finish());
    expect(fields.get(8)).toEqual([3, 0, 300]);
    expect(fields.get(1)?.map(text)).toEqual(['a', 'bc']);
  });
});

describe('an exported model read back', () => {
  const model = decode(exportToOnnx(source).bytes);
  const graph = decode(one(model, 7) as Uint8Array);

  test('is ONNX IR 8 on the default opset 13, produced by stratus', () => {
    expect(one(model, 1)).toBe(8);
    const [opset] = messages(model, 8);
    expect(opset?.has(1)).toBe(false); // no domain: the default operator set
    expect(one(opset!, 2)).toBe(13);
    expect(text(one(model, 2))).toBe('stratus');
    expect(text(one(model, 6))).toContain(source.version);
  });

  test('takes NHWC images with a free batch and gives [batch, 10] probabilities', () => {
    const valueInfo = (info: Map<number, FieldValue[]>) => {
      const tensorType = decode(one(decode(one(info, 2) as Uint8Array), 1) as Uint8Array);
      const dims = messages(decode(one(tensorType, 2) as Uint8Array), 1).map((dim) => (dim.has(1) ? one(dim, 1) : text(one(dim, 2))));
      return { name: text(one(info, 1)), elemType: one(tensorType, 1), dims };
    };
    expect(messages(graph, 11).map(valueInfo)).toEqual([{ name: 'images', elemType: 1, dims: ['batch', 28, 28, 1] }]);
    expect(messages(graph, 12).map(valueInfo)).toEqual([{ name: 'probabilities', elemType: 1, dims: ['batch', 10] }]);
  });

  test('cuts the image to what it reads, transposes once to NCHW and has the lean network, layer by layer', () => {
    const nodes = messages(graph, 1);
    expect(nodes.map((node) => text(one(node, 4)))).toEqual(
      ['Slice', 'Transpose', 'Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Softmax'],
    );
    const [crop, transpose] = nodes as [Map<number, FieldValue[]>, Map<number, FieldValue[]>];
    expect(text(one(crop, 1))).toBe('images');
    expect(text(one(transpose, 1))).toBe(text(one(crop, 2)));
    const [perm] = messages(transpose, 5);
    expect(text(one(perm!, 1))).toBe('perm');
    expect(one(perm!, 20)).toBe(7); // INTS
    expect(perm!.get(8)).toEqual([0, 3, 1, 2]);
    expect(nodes.at(-1)?.get(2)?.map(text)).toEqual(['probabilities']);
  });

  test('carries each weight as float32 raw data, the conv kernel as [out, in, kh, kw]', () => {
    const json = JSON.parse(source.modelJson as string) as { weightsManifest: { weights: { name: string }[] }[] };
    const firstKernel = new Float32Array(source.weightsBin.slice(0, 3 * 3 * 1 * 16 * 4).buffer); // [3, 3, 1, 16], first in weights.bin
    expect(json.weightsManifest[0]!.weights[0]!.name).toBe('conv2d_Conv2D1/kernel');
    const initializers = messages(graph, 5);
    // A kernel and a bias for each of the four layers, and the crop's starts, ends and axes (int64).
    expect(initializers).toHaveLength(11);
    const ends = initializers.find((t) => text(one(t, 8)) === 'crop_ends')!;
    expect(one(ends, 2)).toBe(7); // INT64
    const kernel = initializers.find((t) => text(one(t, 8)) === 'conv2d_Conv2D1_kernel')!;
    expect(kernel.get(1)).toEqual([16, 1, 3, 3]);
    expect(one(kernel, 2)).toBe(1); // FLOAT
    const raw = one(kernel, 9) as Uint8Array;
    const oihw = new Float32Array(raw.slice().buffer);
    // Filter 5, row 2, column 1: tfjs index ((y * kw + x) * in + i) * out + o.
    expect(oihw[((5 * 1 + 0) * 3 + 2) * 3 + 1]).toBe(firstKernel[((2 * 3 + 1) * 1 + 0) * 16 + 5]!);
  });
});
