// Publishing a trained model directory (--out) into the model registry: straight into the store and
// transport (--publish), or through a running gateway's admin endpoint (--publish-url), which is the way
// in local mode, where the serving process holds the store's lock and the in-memory transport.
import { join } from 'node:path';
import { ModelRegistry, type PublishOutcome } from './model-registry.ts';
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

/** Reads model.json, weights.bin, metadata.json and (if present) report.json from a trainer's --out. */
export async function readTrainedModel(dir: string): Promise<TrainedModel> {
  const file = (name: string) => Bun.file(join(dir, name));
  for (const name of ['model.json', 'weights.bin', 'metadata.json']) {
    if (!(await file(name).exists())) throw new Error(`no ${name} in ${dir}`);
  }
  const metadata = (await file('metadata.json').json()) as Metadata;
  const report = (await file('report.json').exists()) ? ((await file('report.json').json()) as Record<string, unknown>) : {};
  const { version, ...measured } = metadata;
  if (!version) throw new Error(`${dir}/metadata.json names no version`);
  return {
    meta: {
      // The run's one name (src/train/run-records.ts runVersion), as `--model DIR` serves it too.
      version,
      createdAt: new Date().toISOString(),
      // The report's figures (test accuracy, per-class accuracy, confusion matrix, epoch history) beside
      // the run's settings from metadata.json: what the dashboard shows for a version.
      metrics: { ...measured, ...report },
    },
    files: {
      modelJson: new Uint8Array(await file('model.json').arrayBuffer()),
      weightsBin: new Uint8Array(await file('weights.bin').arrayBuffer()),
    },
  };
}

export async function publishToRegistry(registry: ModelRegistry, model: TrainedModel): Promise<PublishOutcome> {
  return registry.publish(model.meta, model.files);
}

/** POSTs the model to `<gatewayUrl>/api/models`; resolves with the version now serving. */
export async function publishOverHttp(gatewayUrl: string, token: Secret | null, model: TrainedModel): Promise<string> {
  if (!token) throw new Error('--publish-url needs the gateway admin token in STRATUS_ADMIN_TOKEN');
  const url = new URL('api/models', gatewayUrl.endsWith('/') ? gatewayUrl : `${gatewayUrl}/`);
  const body = {
    version: model.meta.version,
    ...(model.meta.metrics ? { metrics: model.meta.metrics } : {}),
    modelJson: JSON.parse(new TextDecoder().decode(model.files.modelJson)) as object,
    weightsBase64: Buffer.from(model.files.weightsBin).toString('base64'),
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
  const answer = (await response.json().catch(() => ({}))) as { serving?: string; error?: { code?: string; message?: string } };
  if (response.status !== 201) {
    throw new Error(`publishing to ${url.origin} failed: HTTP ${response.status} ${answer.error?.code ?? ''} ${answer.error?.message ?? ''}`.trim());
  }
  return answer.serving ?? model.meta.version;
}
