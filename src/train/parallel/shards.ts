// How the data is cut between N workers or ranks. Pure, so every count replays exactly.

/**
 * Images trained per epoch by `shards` workers or ranks taking equal shards (trainShard). Refuses a
 * training set too small to give each of them one batch.
 */
export function shardedSamples(samples: number, shards: number, batchSize: number, who: 'worker' | 'rank'): number {
  if (samples < shards * batchSize) throw new Error(`${samples} training samples are fewer than one batch of ${batchSize} per ${who}`);
  return Math.floor(samples / shards) * shards;
}

/**
 * Worker `rank`'s shard of one epoch's (already shuffled) training order: contiguous, and the same
 * length for every worker, so all of them take the same number of steps and meet at every barrier.
 * The fewer-than-N samples left over are skipped this epoch (next epoch's shuffle moves them).
 */
export function trainShard(order: Uint32Array, rank: number, workers: number): Uint32Array {
  const per = Math.floor(order.length / workers);
  return order.slice(rank * per, (rank + 1) * per);
}

/** Worker `rank`'s share of a split it only scores (validation, test): every index, once, in order. */
export function scoreShare(indices: Uint32Array, rank: number, workers: number): Uint32Array {
  const per = Math.ceil(indices.length / workers);
  return indices.slice(Math.min(indices.length, rank * per), Math.min(indices.length, (rank + 1) * per));
}
