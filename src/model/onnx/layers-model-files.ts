// Reads a tfjs layers model (model.json + weights.bin, as a ModelSource carries them) without tfjs:
// the layer list of a Sequential model and each weight by name, as float32.
import type { ModelSource } from '../model-source.ts';
import { OnnxExportError } from './onnx-export-error.ts';

/** One layer of model.json: its Keras class name and its config, as tfjs wrote them. */
export interface LayerSpec {
  readonly className: string;
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
}

export interface NamedWeight {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export interface LayersModelFiles {
  readonly name: string;
  readonly layers: readonly LayerSpec[];
  /** Keyed by the manifest's name, `<layer name>/kernel`, `<layer name>/bias`. */
  readonly weights: ReadonlyMap<string, NamedWeight>;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype?: string;
  quantization?: unknown;
}

interface ModelJson {
  modelTopology?: { class_name?: string; config?: unknown; model_config?: { class_name?: string; config?: unknown } };
  weightsManifest?: { weights: ManifestEntry[] }[];
}

export function readLayersModelFiles(source: ModelSource): LayersModelFiles {
  const text = typeof source.modelJson === 'string' ? source.modelJson : new TextDecoder().decode(source.modelJson);
  const json = JSON.parse(text) as ModelJson;
  // Models converted from Python Keras nest the topology one level down.
  const topology = json.modelTopology?.model_config ?? json.modelTopology;
  if (topology?.class_name !== 'Sequential') {
    throw new OnnxExportError(`model ${source.version}: only Sequential layers models can be exported to ONNX, not ${topology?.class_name ?? 'a model without a topology'}`);
  }
  // Older Keras wrote a Sequential's config as the bare layer list.
  const config = topology.config as { name?: string; layers?: unknown[] } | unknown[];
  const rawLayers = Array.isArray(config) ? config : (config.layers ?? []);
  const layers = rawLayers.map((raw) => {
    const { class_name: className, config: layerConfig } = raw as { class_name: string; config: Record<string, unknown> };
    return { className, name: String(layerConfig.name), config: layerConfig };
  });
  const name = (!Array.isArray(config) && config.name) || source.version;
  return { name, layers, weights: readWeights(source, json.weightsManifest ?? []) };
}

/** weights.bin is every manifest entry's values back to back, in manifest order. */
function readWeights(source: ModelSource, manifest: { weights: ManifestEntry[] }[]): Map<string, NamedWeight> {
  const weights = new Map<string, NamedWeight>();
  const bin = source.weightsBin;
  let offset = 0;
  for (const entry of manifest.flatMap((group) => group.weights)) {
    if ((entry.dtype ?? 'float32') !== 'float32' || entry.quantization) {
      throw new OnnxExportError(`model ${source.version}: weight ${entry.name} is ${entry.quantization ? 'quantized' : entry.dtype}; only float32 weights can be exported to ONNX`);
    }
    const byteLength = entry.shape.reduce((n, d) => n * d, 1) * Float32Array.BYTES_PER_ELEMENT;
    if (offset + byteLength > bin.byteLength) {
      throw new OnnxExportError(`model ${source.version}: weights.bin holds ${bin.byteLength} bytes, too few for weight ${entry.name}`);
    }
    // A copy, not a view: the entry need not start on a 4-byte boundary of the underlying buffer.
    const values = new Float32Array(bin.slice(offset, offset + byteLength).buffer);
    weights.set(entry.name, { shape: entry.shape, values });
    offset += byteLength;
  }
  if (offset !== bin.byteLength) {
    throw new OnnxExportError(`model ${source.version}: weights.bin holds ${bin.byteLength} bytes, the manifest describes ${offset}`);
  }
  return weights;
}
