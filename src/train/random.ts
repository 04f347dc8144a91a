// The seeded randomness of a training run: the same seed gives the same hold-out, the same epoch orders
// and the same augmentation draws, on every machine and at every worker or rank count.

/** mulberry32: tiny seeded PRNG so the split and the shuffles replay exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle(indices: Uint32Array, random: () => number): void {
  for (let i = indices.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = indices[i]!;
    indices[i] = indices[j]!;
    indices[j] = t;
  }
}

export function range(count: number): Uint32Array {
  return Uint32Array.from({ length: count }, (_, i) => i);
}
