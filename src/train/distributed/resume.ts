// Where a rank's training starts: rank 0 looks for the job's latest checkpoint and hands it to every
// rank at the rendezvous, so all of them, rank 0 included, start from the same bytes. A restarted job
// thus continues from its last finished epoch.
import type { Store } from '../../adapters/store/store.ts';
import { writeWeights } from '../params.ts';
import type { EpochRecord } from '../report.ts';
import { decodeCheckpoint, encodeCheckpoint, latestCheckpoint } from './checkpoint.ts';
import type { RankModel } from './exchange-step.ts';
import { restoreOptimizer } from './model-state.ts';
import type { RankLink } from './rank-link.ts';

/** The epochs a checkpoint had done and their records, or undefined for a fresh start. */
export async function startFromCheckpoint(
  link: RankLink,
  store: Store,
  jobId: string,
  rank: RankModel,
): Promise<{ epoch: number; history: readonly EpochRecord[] } | undefined> {
  const saved = link.rank === 0 ? await latestCheckpoint(store, jobId) : null;
  if (saved && saved.params !== rank.length) throw new Error(`checkpoint of job ${jobId} holds ${saved.params} weights, the ${rank.model.name.replace(/^stratus_/, '')} model ${rank.length}`);
  const welcome = await link.rendezvous(saved ? encodeCheckpoint(saved) : new Uint8Array(0));
  if (welcome.byteLength === 0) return undefined;
  const resumed = decodeCheckpoint(welcome);
  writeWeights(rank.slots, resumed.weights);
  await restoreOptimizer(rank.optimizer, rank.slots, rank.length, resumed.optimizer);
  return { epoch: resumed.epoch, history: resumed.history };
}
