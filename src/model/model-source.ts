// Where the consumer's model comes from: a directory given with --model, or the one embedded in the binary.
// A directory holds model.json and weights.bin (the tfjs layers format) and, optionally, metadata.json
// and model.onnx (the same model in ONNX, as the trainer writes it). The embedded model has no model.onnx:
// it is exported when it loads on onnxruntime.
import { basename, join, resolve } from 'node:path';
import { defaultModel } from '../embedded/assets.ts';

/** A model's files as a classifier loads them; `version` names it in answers and logs. */
export interface ModelSource {
  readonly version: string;
  readonly modelJson: Uint8Array | string;
  readonly weightsBin: Uint8Array;
  /** model.onnx: what the onnx engine serves as it is, instead of exporting the two files above. */
  readonly modelOnnx?: Uint8Array;
}

export class ModelNotFoundError extends Error {
  override readonly name = 'ModelNotFoundError';
}

interface Metadata {
  readonly version?: string;
}

export async function readModelDirectory(directory: string): Promise<ModelSource> {
  const dir = resolve(directory);
  const source = await readModelFiles(join(dir, 'model.json'), join(dir, 'weights.bin'), join(dir, 'metadata.json'), basename(dir));
  const modelOnnx = await readOptionalFile(join(dir, 'model.onnx'));
  return modelOnnx ? { ...source, modelOnnx } : source;
}

/** A file a model directory may hold (model.onnx), or null when it has none. */
export async function readOptionalFile(path: string): Promise<Uint8Array | null> {
  const file = Bun.file(path);
  return (await file.exists()) ? new Uint8Array(await file.arrayBuffer()) : null;
}

export function readEmbeddedModel(): Promise<ModelSource> {
  return readModelFiles(defaultModel.modelJson, defaultModel.weightsBin, defaultModel.metadataJson, 'embedded');
}

async function readModelFiles(modelJsonPath: string, weightsPath: string, metadataPath: string, fallbackVersion: string): Promise<ModelSource> {
  const modelJson = Bun.file(modelJsonPath);
  const weights = Bun.file(weightsPath);
  for (const file of [modelJson, weights]) {
    if (!(await file.exists())) throw new ModelNotFoundError(`model file not found: ${file.name}`);
  }
  const metadataFile = Bun.file(metadataPath);
  const metadata: Metadata = (await metadataFile.exists()) ? ((await metadataFile.json()) as Metadata) : {};
  return {
    version: metadata.version ?? fallbackVersion,
    modelJson: await modelJson.text(),
    weightsBin: new Uint8Array(await weights.arrayBuffer()),
  };
}
