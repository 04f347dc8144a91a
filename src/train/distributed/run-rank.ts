// The trainer role's way into a distributed run: the process's flags and adapters become DistributedOptions.
import type { ActorContext } from '../../actors/actor.ts';
import type { TrainEvent, TrainOptions, TrainResult } from '../trainer.ts';
import { trainDistributed } from './distributed-trainer.ts';
import { defaultJobId } from './job-id.ts';
import { checksum } from './model-state.ts';

export async function trainAsRank(options: TrainOptions, context: ActorContext, log: (event: TrainEvent) => void): Promise<TrainResult | null> {
  const { config, transport, store, logger } = context;
  const sync = options.sync ?? 'gradients';
  const syncEvery = options.syncEvery ?? 8;
  const jobId = config.jobId ?? defaultJobId({ ...options, worldSize: config.worldSize, sync, syncEvery });
  logger.info({ rank: config.rank, worldSize: config.worldSize, jobId, transport: transport.name }, 'joining the distributed training run');
  // Logged by every rank: the same digest in every rank's log is the proof, outside the run, that they agree.
  const onWeights = (weights: Float32Array) => logger.info({ rank: config.rank, sha256: checksum(weights) }, 'every rank holds the same weights');
  return trainDistributed({ ...options, transport, store, rank: config.rank, worldSize: config.worldSize, jobId, sync, syncEvery, peerTimeoutMs: config.peerTimeoutMs, onWeights }, log);
}
