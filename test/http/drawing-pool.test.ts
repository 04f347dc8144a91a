// The drawing pool: cheap drawings made at once, costly ones on a thread, clients taking turns.
import { afterEach, expect, test } from 'bun:test';
import { drawingCostUs, drawingToDigitImages } from '../../src/preprocess/digit-images.ts';
import { validateDrawing } from '../../src/preprocess/drawing.ts';
import { DrawingPool } from '../../src/http/drawing-pool.ts';
import { PREPROCESS_WORKER } from '../../src/workers.ts';
import { costliestDrawing } from '../helpers/costly-drawing.ts';
import { composeNumber, loadPendigits, seededRandom } from '../helpers/pendigits.ts';

const costly = validateDrawing(costliestDrawing());
const COSTLY_US = drawingCostUs(costly);
const handwritten = (() => {
  const random = seededRandom(5);
  const samples = loadPendigits().slice(0, 50);
  return validateDrawing(composeNumber([samples[3]!], random).drawing);
})();

let pool: DrawingPool | null = null;
afterEach(() => pool?.close());

test('a costly drawing is made on a thread, into the same images as on the event loop', async () => {
  pool = new DrawingPool(PREPROCESS_WORKER, 1);
  const onThread = await pool.images(costly, COSTLY_US, 'a');
  const here = drawingToDigitImages(costly);
  expect(onThread.count).toBe(here.count);
  expect(onThread.pixels).toEqual(here.pixels);
  expect(await pool.images(handwritten, drawingCostUs(handwritten), 'a')).toEqual(drawingToDigitImages(handwritten));
});

test('asking for costly drawings leaves the event loop free: the call returns before the work is done', async () => {
  // A thread that never answers: a drawing made here, on the event loop, would be settled by the next turn
  // of the loop; one handed to the thread is still waiting then. (How little the handing over costs is
  // bench matter, not a timed assertion.)
  pool = new DrawingPool(new URL('../helpers/silent-worker.ts', import.meta.url), 1);
  const pending = Array.from({ length: 4 }, () => pool!.images(costly, COSTLY_US, 'flood').then(() => 'drawn', () => 'failed'));
  const nextTurn = () => new Promise<string>((resolve) => setImmediate(() => resolve('loop turned')));
  expect(await Promise.race([...pending, nextTurn()])).toBe('loop turned');
  // The same race tells a drawing made here: a cheap one is, at once, while the costly ones wait.
  const cheap = pool.images(handwritten, drawingCostUs(handwritten), 'quiet').then(() => 'drawn');
  expect(await Promise.race([cheap, nextTurn()])).toBe('drawn');
});

test('clients take turns on the thread: one more drawing from another client overtakes a queue of them', async () => {
  pool = new DrawingPool(PREPROCESS_WORKER, 1);
  const finished: string[] = [];
  const ask = (client: string, name: string) => pool!.images(costly, COSTLY_US, client).then(() => void finished.push(name));
  const all = [ask('flood', 'f1'), ask('flood', 'f2'), ask('flood', 'f3'), ask('flood', 'f4'), ask('quiet', 'q1')];
  await Promise.all(all);
  // f1 went to the thread at once; the flood's queue was there before quiet's, so its turn came first, and
  // quiet's one drawing then overtook the rest of the flood.
  expect(finished).toEqual(['f1', 'f2', 'q1', 'f3', 'f4']);
});

test('closing fails the drawings still queued; after it, drawings are made on the event loop', async () => {
  pool = new DrawingPool(PREPROCESS_WORKER, 1);
  const queued = [pool.images(costly, COSTLY_US, 'a'), pool.images(costly, COSTLY_US, 'a')].map((p) => p.then(() => 'made', (e: Error) => e.message));
  pool.close();
  expect(await Promise.all(queued)).toEqual(['drawing threads stopped', 'drawing threads stopped']);
  expect(await pool.images(costly, COSTLY_US, 'a')).toEqual(drawingToDigitImages(costly));
});
