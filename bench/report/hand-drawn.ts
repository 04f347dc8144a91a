// The paper's hand-drawn experiment, automated: recorded pen strokes (UCI pendigits, real people's
// handwriting) replayed as mouse input onto the real drawing page in Chromium, Predict pressed, the
// answer read from the page. `perDigit` samples of each digit, spread over the held-out writers: the
// default model was fine-tuned on the other writers' digits, so only these measure unseen handwriting.
import type { Browser } from 'playwright-core';
import { launchChromium, openDrawingPage, startStratus } from '../../test/helpers/browser.ts';
import { HELD_OUT_WRITERS, loadHeldOutPendigits, spreadSample, type PendigitsSample } from '../../test/helpers/pendigits.ts';

export interface HandDrawnResult {
  readonly digits: number;
  readonly correct: number;
  /** perDigit[d] = { right, total } */
  readonly perDigit: { readonly right: number; readonly total: number }[];
  /** Every misread, "expected→answered". */
  readonly misreads: string[];
  readonly chromium: string;
  readonly seconds: number;
  /** The pendigits writers the digits came from (absent in results written before it was recorded). */
  readonly writers?: string;
  /** The model version the page was served by (absent in results written before it was recorded). */
  readonly model?: string;
}

/** `perDigit` samples of every digit, each digit's spread over all of `samples` (so over many writers). */
export function balancedSample(samples: readonly PendigitsSample[], perDigit: number): PendigitsSample[] {
  return Array.from({ length: 10 }, (_, digit) => spreadSample(samples.filter((s) => s.label === digit), perDigit)).flat();
}

export async function runHandDrawn(perDigit: number): Promise<HandDrawnResult> {
  const samples = balancedSample(loadHeldOutPendigits(), perDigit);
  // A child process, so driving the browser does not compete with the server's event loop.
  const stratus = await startStratus('child');
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const { drawing } = await openDrawingPage(browser, stratus.url, { viewport: { width: 1280, height: 900 } });
    const model = ((await (await fetch(`${stratus.url}/v2/models/mnist`)).json()) as { serving?: string }).serving;
    const started = performance.now();
    const perDigitTally = Array.from({ length: 10 }, () => ({ right: 0, total: 0 }));
    const misreads: string[] = [];
    for (const [i, sample] of samples.entries()) {
      // The history list grows with each prediction; emptying it keeps every prediction as cheap.
      if (i > 0 && i % 50 === 0) {
        await drawing.clearPredictions();
      }
      await drawing.press('Clear Canvas');
      await drawing.draw(sample.strokes, 'mouse');
      const answer = await drawing.predict(15_000, { fast: true });
      const tally = perDigitTally[sample.label]!;
      tally.total++;
      if (answer === String(sample.label)) tally.right++;
      else misreads.push(`${sample.label}→${answer || 'nothing'}`);
    }
    return {
      digits: samples.length,
      correct: perDigitTally.reduce((sum, t) => sum + t.right, 0),
      perDigit: perDigitTally,
      misreads,
      chromium: browser.version(),
      seconds: Math.round((performance.now() - started) / 100) / 10,
      writers: HELD_OUT_WRITERS,
      model,
    };
  } finally {
    await browser?.close();
    await stratus.stop();
  }
}
