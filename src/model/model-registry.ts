// The model registry as the gateway's admin endpoints and the trainer's --publish see it: versions live
// in the store (files as attachments), the store's serving version says which one consumers should
// serve, and a model.updated message tells every consumer to switch now. Consumers started later read
// the serving version from the store, so the message needs no durability of its own.
import type { ModelFiles, ModelVersion, Store } from '../adapters/store/store.ts';
import type { Transport } from '../adapters/transport/transport.ts';
import { encodeJson, type ModelUpdated } from '../protocol/messages.ts';
import { TOPIC } from '../protocol/topics.ts';
import { publishableFiles } from './model-limits.ts';
import { DEFAULT_TRIAL_MEMORY_MB, trialUnder, type ModelTrial } from './model-trial.ts';

/** Safe as a document id, in a URL path and in a log line. */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export type PublishOutcome = 'created' | 'exists';

/** A training run's per-epoch checkpoint (src/train/distributed/checkpoint.ts) is stored as a model
 * version so that the Store needs nothing new, but it holds optimizer state, not a model: a consumer
 * could not load it, so it is neither listed nor servable. */
export function isCheckpoint(model: ModelVersion): boolean {
  return (model.metrics as { checkpoint?: unknown } | undefined)?.checkpoint !== undefined;
}

export class ModelRegistry {
  private readonly trial: ModelTrial;

  /** `trial`: what a new version must pass before it is stored (model-trial.ts); by default the trial
   * load under the default memory cap. */
  constructor(
    private readonly store: Store,
    private readonly transport: Transport,
    trial?: ModelTrial,
  ) {
    this.trial = trial ?? trialUnder(DEFAULT_TRIAL_MEMORY_MB);
  }

  /** Servable versions, newest first. */
  async list(): Promise<ModelVersion[]> {
    return (await this.store.listModels()).filter((model) => !isCheckpoint(model));
  }

  /** The version consumers were last told to serve, or null if none was ever chosen. */
  selected(): Promise<string | null> {
    return this.store.getServingVersion();
  }

  /** Stores a new version and makes it the serving one; an existing version is left untouched. Throws a
   * ModelLimitError, before anything is stored, for files beyond the limits every consumer can load, or
   * for a model that fails its trial load. */
  async publish(meta: ModelVersion, files: ModelFiles): Promise<PublishOutcome> {
    if (!VERSION_PATTERN.test(meta.version)) throw new Error(`model version '${meta.version}' does not match ${VERSION_PATTERN}`);
    const publishable = publishableFiles(meta.version, files);
    await this.trial(meta.version, publishable);
    const outcome = await this.store.saveModel(meta, publishable);
    if (outcome === 'exists') return 'exists';
    await this.serve(meta.version);
    return 'created';
  }

  /** Stores a version, if it is not stored yet, without serving it (the embedded model, at start). */
  async ensureStored(meta: ModelVersion, files: ModelFiles): Promise<PublishOutcome> {
    return this.store.saveModel(meta, files);
  }

  /** Promotes or rolls back to a stored version; false if the store has no such servable version. */
  async serve(version: string): Promise<boolean> {
    const known = (await this.list()).some((model) => model.version === version);
    if (!known) return false;
    // The store first: a consumer that starts between the two steps reads the new choice from it.
    await this.store.setServingVersion(version);
    const message: ModelUpdated = { version };
    await this.transport.publish(TOPIC.modelUpdated, { key: 'serving', value: encodeJson(message) });
    return true;
  }
}
