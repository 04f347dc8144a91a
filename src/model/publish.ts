// Publishing a trained model directory (--out) into the model registry: straight into the store and
// transport (--publish), or through a running gateway's admin endpoint (--publish-url), which is the way
// in local mode, where the serving process holds the store's lock and the in-memory transport.
import { join } from 'node:path';
import { defaultModel } from '../embedded/assets.ts';
import { ModelRegistry, type PublishOutcome } from './model-registry.ts';
import { readOptionalFile } from './model-source.ts';
import type { ModelFiles, ModelVersion } from '../adapters/store/store.ts';
import type { Secret } from '../secret.ts';

export interface TrainedModel {
  readonly meta: ModelVersion;
  readonly files: ModelFiles;
}

interface Metadata {
  readonly version?: string;
  readonly [key: string]: unknown;
}

/** The files of a trained model, as a trainer writes them to --out (report.json and model.onnx may be
 * missing; the embedded model names no model.onnx). */
export interface TrainedModelFiles {
  readonly modelJson: string;
  readonly weightsBin: string;
  readonly metadataJson: string;
  readonly reportJson: string;
  readonly modelOnnx?: string;
}

export const modelDirectory = (dir: string): TrainedModelFiles => ({
  modelJson: join(dir, 'model.json'),
  weightsBin: join(dir, 'weights.bin'),
  metadataJson: join(dir, 'metadata.json'),
  reportJson: join(dir, 'report.json'),
  modelOnnx: join(dir, 'model.onnx'),
});

/**
 * A trained model as a registry version: its files, and as metrics what the dashboard shows of it (the
 * report's figures: test accuracy, per-digit accuracy, confusion matrix, epoch history, beside the run's
 * settings from metadata.json). `createdAt`: when it enters the registry (now, unless told otherwise).
 */
export async function readTrainedModel(paths: TrainedModelFiles, createdAt = new Date().toISOString()): Promise<TrainedModel> {
  for (const path of [paths.modelJson, paths.weightsBin, paths.metadataJson]) {
    if (!(await Bun.file(path).exists())) throw new Error(`no ${path}`);
  }
  const metadata = (await Bun.file(paths.metadataJson).json()) as Metadata;
  const report = (await Bun.file(paths.reportJson).exists()) ? ((await Bun.file(paths.reportJson).json()) as Record<string, unknown>) : {};
  const { version, ...measured } = metadata;
  if (!version) throw new Error(`${paths.metadataJson} names no version`);
  const modelOnnx = paths.modelOnnx ? await readOptionalFile(paths.modelOnnx) : null;
  return {
    // The run's one name (src/train/run-records.ts runVersion), as `--model DIR` serves it too.
    meta: { version, createdAt, metrics: { ...measured, ...report } },
    files: {
      modelJson: new Uint8Array(await Bun.file(paths.modelJson).arrayBuffer()),
      weightsBin: new Uint8Array(await Bun.file(paths.weightsBin).arrayBuffer()),
      ...(modelOnnx ? { modelOnnx } : {}),
    },
  };
}

/** The model built into the binary, as a version of its own: listed, servable, a rollback target. */
export async function readEmbeddedVersion(): Promise<TrainedModel> {
  const trainedAt = ((await Bun.file(defaultModel.metadataJson).json()) as Metadata).trainedAt;
  return readTrainedModel(defaultModel, typeof trainedAt === 'string' ? trainedAt : undefined);
}

export async function publishToRegistry(registry: ModelRegistry, model: TrainedModel): Promise<PublishOutcome> {
  return registry.publish(model.meta, model.files);
}

/** POSTs the model to `<gatewayUrl>/api/models`; resolves with its state (serving, or still loading),
 * rejects when the consumers refused it, with their reason. */
export async function publishOverHttp(gatewayUrl: string, token: Secret | null, model: TrainedModel): Promise<string> {
  if (!token) throw new Error('--publish-url needs the gateway admin token in STRATUS_ADMIN_TOKEN');
  const url = new URL('api/models', gatewayUrl.endsWith('/') ? gatewayUrl : `${gatewayUrl}/`);
  const body = {
    version: model.meta.version,
    ...(model.meta.metrics ? { metrics: model.meta.metrics } : {}),
    modelJson: JSON.parse(new TextDecoder().decode(model.files.modelJson)) as object,
    weightsBase64: Buffer.from(model.files.weightsBin).toString('base64'),
    ...(model.files.modelOnnx ? { onnxBase64: Buffer.from(model.files.modelOnnx).toString('base64') } : {}),
  };
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token.reveal()}` },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new Error(`could not reach ${url.origin}: ${(error as Error).message}`);
  }
  const answer = (await response.json().catch(() => ({}))) as { state?: string; reason?: string; error?: { code?: string; message?: string } };
  if (response.status !== 201) {
    throw new Error(`publishing to ${url.origin} failed: HTTP ${response.status} ${answer.error?.code ?? ''} ${answer.error?.message ?? ''}`.trim());
  }
  if (answer.state === 'refused') throw new Error(`${url.origin} stored ${model.meta.version}, but its consumers refused to serve it: ${answer.reason ?? 'no reason given'}`);
  return answer.state ?? 'loading';
}
