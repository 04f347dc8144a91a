// `--writers 1-20` / `--writers 3,7,21-30`: which pendigits writers (1–30) a script uses. Training and
// evaluation take disjoint ranges, so a model is measured on writers it never saw.

/** The writers a spec names, sorted; throws with a short message on anything else. */
export function parseWriterRange(spec: string): number[] {
  const writers = new Set<number>();
  for (const part of spec.split(',')) {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!match) throw new Error(`--writers: "${part}" is not a writer number or a range like 1-20`);
    const from = Number(match[1]);
    const to = Number(match[2] ?? match[1]);
    if (from < 1 || to > 30 || from > to) throw new Error(`--writers: ${part} must lie within 1-30, low to high`);
    for (let w = from; w <= to; w++) writers.add(w);
  }
  return [...writers].sort((a, b) => a - b);
}
