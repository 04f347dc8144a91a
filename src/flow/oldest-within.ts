// The rule a request coalescer and a group commit share when they cut a queue into a batch: the oldest
// entries, whole, while their sizes stay within the limit — and always at least one, so an entry bigger
// than the limit still leaves, alone, instead of blocking the queue.
// (The consumer's Batcher differs on purpose: it also takes the entry that crosses the limit.)

/** How many of the oldest `items` make the next batch, and their total size. */
export function oldestWithin<T>(items: readonly T[], sizeOf: (item: T) => number, limit: number): { count: number; size: number } {
  let count = 0;
  let size = 0;
  while (count < items.length) {
    const next = sizeOf(items[count] as T);
    if (count > 0 && size + next > limit) break;
    size += next;
    count++;
  }
  return { count, size };
}
