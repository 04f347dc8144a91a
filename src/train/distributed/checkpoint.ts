// Rank 0's checkpoint after every epoch, kept in the Store as a model version of its own: the run's
// weights, Adam's state, the epochs done and their figures. The version name carries the job id, the
// metrics mark it as a checkpoint. The Store needs nothing new: a model version is already a named pair
// of attachments (here a JSON header and the float32 state).
import type { Store } from '../../adapters/store/store.ts';
import type { EpochRecord } from '../report.ts';
import type { OptimizerState } from './model-state.ts';

export interface Checkpoint {
  readonly jobId: string;
  /** Epochs finished: training resumes with this epoch index. */
  readonly epoch: number;
  readonly params: number;
  readonly weights: Float32Array;
  readonly optimizer: OptimizerState;
  readonly history: readonly EpochRecord[];
}

interface Header {
  readonly format: 'stratus-checkpoint-1';
  readonly jobId: string;
  readonly epoch: number;
  readonly params: number;
  readonly iterations: number;
  readonly accBeta: readonly [number, number];
  readonly moments: number;
  readonly history: readonly EpochRecord[];
}

export const checkpointVersion = (jobId: string, epoch: number): string => `checkpoint-${jobId}-epoch-${epoch}`;

/** One buffer: a 4-byte header length, the JSON header, padding to 4, then weights and moments. */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const header: Header = { format: 'stratus-checkpoint-1', jobId: c.jobId, epoch: c.epoch, params: c.params, iterations: c.optimizer.iterations, accBeta: c.optimizer.accBeta, moments: c.optimizer.moments.length, history: c.history };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((4 + json.byteLength) / 4) * 4;
  const out = new Uint8Array(start + 4 * (c.weights.length + c.optimizer.moments.length));
  new DataView(out.buffer).setUint32(0, json.byteLength, true);
  out.set(json, 4);
  const floats = new Float32Array(out.buffer, start);
  floats.set(c.weights);
  floats.set(c.optimizer.moments, c.weights.length);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const view = new DataView(aligned.buffer, aligned.byteOffset, aligned.byteLength);
  const length = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(aligned.subarray(4, 4 + length))) as Header;
  if (header.format !== 'stratus-checkpoint-1') throw new Error(`not a stratus checkpoint (${String(header.format)})`);
  const start = Math.ceil((4 + length) / 4) * 4;
  const floats = new Float32Array(aligned.buffer, aligned.byteOffset + start, header.params + header.moments);
  return {
    jobId: header.jobId,
    epoch: header.epoch,
    params: header.params,
    weights: floats.slice(0, header.params),
    optimizer: { iterations: header.iterations, accBeta: header.accBeta, moments: floats.slice(header.params) },
    history: header.history,
  };
}

export async function saveCheckpoint(store: Store, checkpoint: Checkpoint): Promise<void> {
  const state = encodeCheckpoint(checkpoint);
  const meta = { version: checkpointVersion(checkpoint.jobId, checkpoint.epoch), createdAt: new Date().toISOString(), metrics: { checkpoint: { jobId: checkpoint.jobId, epoch: checkpoint.epoch } } };
  // 'exists': this epoch was saved by an earlier attempt that died just after; the same epoch, kept.
  await store.saveModel(meta, { modelJson: new TextEncoder().encode(JSON.stringify({ checkpoint: meta.metrics.checkpoint })), weightsBin: state });
}

/** The job's checkpoints in the store, as version and epoch. */
async function checkpointsOf(store: Store, jobId: string): Promise<{ version: string; epoch: number }[]> {
  return (await store.listModels()).flatMap((model) => {
    const mark = (model.metrics as { checkpoint?: { jobId?: unknown; epoch?: unknown } } | undefined)?.checkpoint;
    return mark?.jobId === jobId && typeof mark.epoch === 'number' ? [{ version: model.version, epoch: mark.epoch }] : [];
  });
}

/** Deletes the job's checkpoints whose epoch `which` picks; returns how many went. */
export async function dropCheckpoints(store: Store, jobId: string, which: (epoch: number) => boolean): Promise<number> {
  let dropped = 0;
  for (const { version, epoch } of await checkpointsOf(store, jobId)) if (which(epoch) && (await store.deleteModel(version))) dropped++;
  return dropped;
}

/** The job's checkpoint with the most epochs, or null. */
export async function latestCheckpoint(store: Store, jobId: string): Promise<Checkpoint | null> {
  let best: { version: string; epoch: number } | null = null;
  for (const checkpoint of await checkpointsOf(store, jobId)) if (!best || checkpoint.epoch > best.epoch) best = checkpoint;
  if (!best) return null;
  const files = await store.loadModel(best.version);
  if (!files) throw new Error(`checkpoint ${best.version} is listed but has no files`);
  return decodeCheckpoint(files.weightsBin);
}
