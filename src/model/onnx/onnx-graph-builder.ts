// Collects nodes and constants in the order a converter emits them (already topological, since each
// layer only reads what came before) and gives every tensor a unique name.
import type { OnnxAttributes, OnnxGraph, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx-model-encoder.ts';

export class OnnxGraphBuilder {
  private readonly nodes: { opType: string; inputs: string[]; outputs: string[]; name: string; attributes?: OnnxAttributes }[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly names = new Set<string>();

  constructor(reservedNames: readonly string[]) {
    for (const name of reservedNames) this.names.add(name);
  }

  /** Adds a one-output node; returns the name of its output. */
  node(opType: string, inputs: readonly string[], nameHint: string, attributes?: OnnxAttributes): string {
    const name = this.uniqueName(nameHint);
    this.nodes.push({ opType, inputs: [...inputs], outputs: [name], name, ...(attributes ? { attributes } : {}) });
    return name;
  }

  constant(nameHint: string, dims: readonly number[], values: Float32Array | BigInt64Array): string {
    const name = this.uniqueName(nameHint);
    this.initializers.push({ name, dims, values });
    return name;
  }

  /** A constant of whole numbers as ONNX takes shapes, axes and indices (int64); a vector unless `dims` says otherwise. */
  int64s(nameHint: string, values: ArrayLike<number>, dims: readonly number[] = [values.length]): string {
    return this.constant(nameHint, dims, BigInt64Array.from(values, BigInt));
  }

  /** The graph whose result is `result`, published under `output.name`. */
  build(name: string, input: OnnxValueInfo, result: string, output: OnnxValueInfo): OnnxGraph {
    const producer = this.nodes.find((node) => node.outputs.includes(result));
    // The result is the last value computed, so nothing reads it: renaming its producer's output is enough.
    if (producer) producer.outputs = producer.outputs.map((o) => (o === result ? output.name : o));
    else this.nodes.push({ opType: 'Identity', inputs: [result], outputs: [output.name], name: this.uniqueName('identity') });
    const nodes: OnnxNode[] = this.nodes;
    return { name, nodes, initializers: this.initializers, inputs: [input], outputs: [output] };
  }

  /**
   * A graph of several inputs and outputs (a training step's). Each output is published under its info's
   * name by an Identity node: a computed value may feed later nodes too, so it is not renamed.
   */
  buildWithOutputs(name: string, inputs: readonly OnnxValueInfo[], outputs: readonly { readonly value: string; readonly info: OnnxValueInfo }[]): OnnxGraph {
    for (const { value, info } of outputs) this.nodes.push({ opType: 'Identity', inputs: [value], outputs: [info.name], name: this.uniqueName(`publish_${info.name}`) });
    return { name, nodes: this.nodes, initializers: this.initializers, inputs, outputs: outputs.map((o) => o.info) };
  }

  private uniqueName(hint: string): string {
    let name = hint;
    for (let n = 1; this.names.has(name); n++) name = `${hint}_${n}`;
    this.names.add(name);
    return name;
  }
}
