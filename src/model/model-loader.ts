// How a consumer gets a stored model version ready to serve: read its files from the store, start a
// classifier on them (in a worker thread of its own, beside the one serving), and smoke-check it. Any
// failure closes what was started and names the reason, which becomes the reload metric's outcome.
import { Counter } from 'prom-client';
import type { Store } from '../adapters/store/store.ts';
import type { Metrics } from '../metrics.ts';
import type { ModelSource } from './model-source.ts';
import { smokeCheck } from './smoke-check.ts';
import type { Predictor } from './worker-classifier.ts';

/** What the runtime gives the consumer for switching models. */
export interface ModelSupply {
  /** Starts a classifier on the given files (a worker thread of its own, or inline with --inference main). */
  start(source: ModelSource): Promise<Predictor>;
  /** --model was given: at start it wins over the store's serving version. */
  readonly pinned: boolean;
}

export type ReloadOutcome = 'loaded' | 'missing' | 'load_failed' | 'smoke_failed';

export class ModelRefusedError extends Error {
  override readonly name = 'ModelRefusedError';
  constructor(
    readonly outcome: Exclude<ReloadOutcome, 'loaded'>,
    message: string,
  ) {
    super(message);
  }
}

export interface ReadyModel {
  readonly predictor: Predictor;
  readonly source: ModelSource;
  readonly smokeAccuracy: number;
}

export async function loadStoredModel(store: Store, supply: ModelSupply, version: string): Promise<ReadyModel> {
  let files;
  try {
    files = await store.loadModel(version);
  } catch (error) {
    throw new ModelRefusedError('load_failed', `model ${version} could not be read from the store: ${(error as Error).message}`);
  }
  if (!files) throw new ModelRefusedError('missing', `model ${version} is not in the store`);
  // A stored model.onnx travels with its version. The smoke check below runs on what the engine loaded,
  // model.onnx included: one that does not read digits is refused, as bad weights would be.
  const source: ModelSource = { version, modelJson: files.modelJson, weightsBin: files.weightsBin, ...(files.modelOnnx ? { modelOnnx: files.modelOnnx } : {}) };
  let predictor: Predictor;
  try {
    predictor = await supply.start(source);
  } catch (error) {
    throw new ModelRefusedError('load_failed', (error as Error).message);
  }
  try {
    const report = await smokeCheck(predictor);
    return { predictor, source, smokeAccuracy: report.accuracy };
  } catch (error) {
    await predictor.close();
    throw new ModelRefusedError('smoke_failed', (error as Error).message);
  }
}

/** The counter lives in the process's registry; a restarted consumer finds the one already there. */
export function reloadCounter(metrics: Metrics): Counter<'outcome'> {
  const name = 'stratus_model_reloads_total';
  const existing = metrics.registry.getSingleMetric(name);
  if (existing) return existing as Counter<'outcome'>;
  const counter = new Counter({
    name,
    help: 'Model versions a consumer tried to switch to, by outcome: loaded, missing, load_failed, smoke_failed',
    labelNames: ['outcome'] as const,
    registers: [metrics.registry],
  });
  // Every outcome from zero, so a dashboard or alert sees the series before the first failure.
  for (const outcome of ['loaded', 'missing', 'load_failed', 'smoke_failed'] satisfies ReloadOutcome[]) counter.inc({ outcome }, 0);
  return counter;
}
