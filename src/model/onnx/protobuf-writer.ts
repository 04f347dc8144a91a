// Just enough of the protobuf wire format to write an ONNX model: varints and length-delimited fields.
// Written by hand so that exporting needs no protobuf library and no generated code; the reader is
// onnxruntime, which accepts any valid encoding of the same fields.

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

/** Unsigned LEB128, the encoding of every protobuf integer we write (none of ours is negative). */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} as a varint: only safe integers ≥ 0`);
  const bytes: number[] = [];
  // Division, not >>>: bitwise operators would cut the value to 32 bits.
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

const utf8 = new TextEncoder();

/** Appends fields in the order they are written; `finish` joins them into one message. */
export class ProtobufWriter {
  private readonly chunks: Uint8Array[] = [];
  private byteLength = 0;

  varint(field: number, value: number): this {
    return this.key(field, WIRE_VARINT).push(encodeVarint(value));
  }

  /** A repeated integer field, written unpacked (one key per value): proto2's default, which ONNX declares. */
  varints(field: number, values: readonly number[]): this {
    for (const value of values) this.varint(field, value);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    return this.key(field, WIRE_LENGTH_DELIMITED).push(encodeVarint(value.byteLength)).push(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  strings(field: number, values: readonly string[]): this {
    for (const value of values) this.string(field, value);
    return this;
  }

  /** A nested message: written into a writer of its own first, because its length comes before it. */
  message(field: number, write: (nested: ProtobufWriter) => void): this {
    const nested = new ProtobufWriter();
    write(nested);
    return this.bytes(field, nested.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }

  private key(field: number, wireType: number): this {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff) throw new RangeError(`invalid protobuf field number ${field}`);
    return this.push(encodeVarint(field * 8 + wireType));
  }

  private push(chunk: Uint8Array): this {
    this.chunks.push(chunk);
    this.byteLength += chunk.byteLength;
    return this;
  }
}
