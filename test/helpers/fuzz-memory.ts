// The checks each fuzz suite (test/http/fuzz-*.test.ts) ends with: the process still answers, and its
// resident memory has settled back to what it was before the suite, give or take a margin measured here and
// what the suite made the server keep on purpose. The server runs in the test's own process, so its RSS is
// process.memoryUsage().rss.
import { expect } from 'bun:test';

export const MIB = 1024 * 1024;

/**
 * The model on this thread, for suites that classify: the collector the memory check runs (Bun.gc) then
 * reaches every heap. On its own thread (the default) the model's garbage, megabytes per large batch, waits
 * for that thread's next collection, and RSS swung by ±30 MiB between identical runs. The model only ever
 * sees validated images, so the fuzzing loses nothing by it.
 */
export const MODEL_ON_THIS_THREAD: readonly string[] = ['--inference', 'main'];

/** What the in-memory store keeps of each image classified (by design): measured ~0.4 KB over 210,000. */
export const KEPT_PER_IMAGE = 2 * 1024;

/**
 * Resident memory once the collector has run and the freed pages have gone back to the system, which takes
 * a while (RSS went on falling for ~800 ms after a collection, 326 → 237 MiB after the pixel suite): what
 * is still held, not what is merely not yet returned. Collects and reads every 200 ms until RSS stops
 * falling, for 2 s at most.
 */
export async function settledRss(): Promise<number> {
  let last = Number.POSITIVE_INFINITY;
  for (let waited = 0; waited < 2_000; waited += 200) {
    Bun.gc(true);
    await Bun.sleep(200);
    const rss = process.memoryUsage().rss;
    if (rss > last - MIB) return Math.min(rss, last);
    last = rss;
  }
  return last;
}

/**
 * RSS after a suite may exceed RSS before it by this much, beyond what the suite made the server keep on
 * purpose (stored results, held predictions: see expectSettledMemory). Measured with settledRss on a
 * 2-core machine: alone, a suite grew by -1 to +28 MiB, and hardly more for more cases (pixels: +28, +30,
 * +37 MiB at 1×, 3×, 6× the cases); all suites in one process, up to +26 MiB at 1× and +77 MiB at 3×, the
 * earlier suites' leftovers being returned meanwhile or not. A leak of one request body per case would be
 * hundreds of MiB.
 */
export const RSS_MARGIN_BYTES = 96 * MIB;

/** Further readings of a suite's RSS when the first is over its bound (expectSettledMemory). */
const RESETTLE_TRIES = 4;

export async function expectAlive(baseUrl: string): Promise<void> {
  const response = await fetch(`${baseUrl}/v2/health/live`, { signal: AbortSignal.timeout(5_000) });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ live: true });
}

/** The memory check each suite ends with; `keptBytes` is what the suite made the server keep by design
 * (stored predictions), allowed on top of the margin. The numbers are in the failure message. */
export async function expectSettledMemory(rssBefore: number, keptBytes = 0): Promise<void> {
  const allowed = RSS_MARGIN_BYTES + keptBytes;
  // In the whole suite's process (some 450 MiB by then) freed pages can come back later than settledRss
  // waits: a CI run read +102.5 MiB after the KServe suite, which alone grows by -2 to +21 MiB. Over the
  // bound, the reading is taken again for a few seconds more; memory that is really held never comes back.
  let after = await settledRss();
  for (let retry = 0; retry < RESETTLE_TRIES && after > rssBefore + allowed; retry++) {
    await Bun.sleep(1_000);
    after = await settledRss();
  }
  const growth = `RSS ${(rssBefore / MIB).toFixed(1)} → ${(after / MIB).toFixed(1)} MiB (+${((after - rssBefore) / MIB).toFixed(1)}; allowed +${(allowed / MIB).toFixed(1)})`;
  if (process.env.FUZZ_REPORT === '1') console.log(growth);
  expect(after, growth).toBeLessThanOrEqual(rssBefore + allowed);
}
