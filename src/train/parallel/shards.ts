// How the data is cut between N workers. Pure, so every worker count replays exactly.

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
