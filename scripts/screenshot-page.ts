// The README's picture of the page (docs/page.png): a number written by real hands (pendigits writers
// no model here was trained on) replayed onto the drawing page in Chromium, then read by the model.
//   bun scripts/screenshot-page.ts [--number 2026] [--out docs/page.png]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium, openDrawingPage, startStratus } from '../test/helpers/browser.ts';
import { composeNumber, loadHeldOutPendigits, seededRandom, spreadSample } from '../test/helpers/pendigits.ts';

const { values: flags } = parseArgs({ options: { number: { type: 'string', default: '2026' }, out: { type: 'string', default: 'docs/page.png' } } });
if (!/^\d{1,6}$/.test(flags.number!)) {
  console.error('--number: 1 to 6 digits');
  process.exit(2);
}

const writers = loadHeldOutPendigits();
const random = seededRandom(7);
// Each digit from a different writer's hand: the k-th sample of its label spread over all writers.
const digits = [...flags.number!].map((char, k) => spreadSample(writers.filter((s) => s.label === Number(char)), 10)[(3 * k + 1) % 10]!);
const number = composeNumber(digits, random);

const stratus = await startStratus('child');
const browser = await launchChromium();
try {
  const { drawing, context } = await openDrawingPage(browser, stratus.url, { viewport: { width: 1100, height: 760 } });
  await drawing.draw(number.drawing.strokes, 'mouse', { maxHeightFraction: 0.6 });
  const read = await drawing.predict();
  const out = resolve(flags.out!);
  await drawing.page.screenshot({ path: out });
  console.log(`wrote ${out}: wrote ${flags.number}, the page read ${read}`);
  await context.close();
} finally {
  await browser.close();
  await stratus.stop();
}
