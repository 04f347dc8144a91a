// The drawing page in a real Chromium: recorded handwriting (UCI pendigits) replayed as mouse and pen
// input, read back from the page's stable hooks. A sample here; bench/browser-accuracy.ts runs ≥ 1,000.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Browser } from 'playwright-core';
import { launchChromium, openDrawingPage, SCREENSHOTS, startStratus, topBar, type StratusUnderTest } from '../helpers/browser.ts';
import { composeNumber, loadHeldOutPendigits, seededRandom, spreadSample } from '../helpers/pendigits.ts';

describe('drawing page (desktop Chromium)', () => {
  let stratus: StratusUnderTest;
  let browser: Browser;
  beforeAll(async () => {
    [stratus, browser] = await Promise.all([startStratus('in-process'), launchChromium()]);
    console.log(`screenshots: ${SCREENSHOTS}`);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stratus?.stop();
  });

  test('reads single handwritten digits, drawn with a mouse and with a pen, with ≥ 90 % accuracy', async () => {
    const opened = await openDrawingPage(browser, stratus.url, { viewport: { width: 1280, height: 900 } });
    const { drawing } = opened;
    const samples = spreadSample(loadHeldOutPendigits(), 30);
    let correct = 0;
    const misses: string[] = [];
    for (const [i, sample] of samples.entries()) {
      await drawing.button('Clear Canvas').click();
      await drawing.draw(sample.strokes, i % 2 === 0 ? 'mouse' : 'pen');
      const read = await drawing.predict();
      const bars = await drawing.bars();
      expect(bars.map((b) => b.digit).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(bars.reduce((sum, b) => sum + b.probability, 0)).toBeCloseTo(1, 2);
      // The chart belongs to the answer just given: its tallest bar is the digit read.
      expect(String(topBar(bars))).toBe(read);
      if (read === String(sample.label)) correct++;
      else misses.push(`${sample.label}→${read}`);
      if (i === 0) await drawing.screenshot('desktop-first-digit');
    }
    console.log(`browser digits: ${correct}/${samples.length} read right; misses ${misses.join(' ') || 'none'}`);
    expect(correct / samples.length).toBeGreaterThanOrEqual(0.9);
    expect(await opened.allProblems()).toEqual([]);
    await opened.context.close();
  }, 120_000);

  test('Clear Canvas leaves the pad blank', async () => {
    const opened = await openDrawingPage(browser, stratus.url);
    const { drawing } = opened;
    expect(await drawing.inkedPixels()).toBe(0);
    await drawing.draw(spreadSample(loadHeldOutPendigits(), 5)[2]!.strokes);
    expect(await drawing.inkedPixels()).toBeGreaterThan(100);
    await drawing.button('Clear Canvas').click();
    expect(await drawing.inkedPixels()).toBe(0);
    expect(await opened.allProblems()).toEqual([]);
    await opened.context.close();
  }, 30_000);

  test('history: newest first, kept across a reload, emptied by Clear Predictions', async () => {
    const opened = await openDrawingPage(browser, stratus.url);
    const { drawing, context } = opened;
    expect(await drawing.historyDigits()).toEqual([]);
    const answers: string[] = [];
    for (const sample of spreadSample(loadHeldOutPendigits(), 3)) {
      await drawing.button('Clear Canvas').click();
      await drawing.draw(sample.strokes);
      answers.push(await drawing.predict());
    }
    expect(await drawing.historyDigits()).toEqual([...answers].reverse());

    await drawing.page.reload();
    await drawing.pad.waitFor();
    expect(await drawing.historyDigits()).toEqual([...answers].reverse());
    await drawing.screenshot('desktop-history');

    await drawing.clearPredictions();
    await drawing.page.reload();
    await drawing.pad.waitFor();
    expect(await drawing.historyDigits()).toEqual([]);
    expect(await opened.allProblems()).toEqual([]);
    await context.close();
  }, 60_000);

  test('a number written as several digits side by side is read whole, digit by digit in order', async () => {
    const opened = await openDrawingPage(browser, stratus.url, { viewport: { width: 1280, height: 900 } });
    const { drawing } = opened;
    const all = loadHeldOutPendigits();
    const random = seededRandom(11);
    const results: string[] = [];
    let whole = 0;
    let digitsRight = 0;
    let digitsWritten = 0;
    const numbers = 8;
    for (let n = 0; n < numbers; n++) {
      const length = 2 + (n % 5); // 2 to 6 digits
      const digits = Array.from({ length }, () => all[Math.floor(random() * all.length)]!);
      const number = composeNumber(digits, random);
      await drawing.button('Clear Canvas').click();
      await drawing.draw(number.drawing.strokes, 'mouse', { maxHeightFraction: 0.6 });
      const read = await drawing.predict();
      const expected = number.labels.join('');
      results.push(`${expected}→${read}`);
      // One answer per digit written: the number was split into its digits, none merged or lost.
      expect(read).toHaveLength(expected.length);
      digitsWritten += expected.length;
      for (let i = 0; i < expected.length; i++) if (read[i] === expected[i]) digitsRight++;
      if (read === expected) whole++;
      if (n === 4) await drawing.screenshot('desktop-number');
    }
    console.log(`browser numbers: ${whole}/${numbers} read whole, ${digitsRight}/${digitsWritten} digits in place: ${results.join(' ')}`);
    // Position by position: a reversed or shuffled reading fails this even when every digit is known.
    expect(digitsRight / digitsWritten).toBeGreaterThanOrEqual(0.8);
    expect(await opened.allProblems()).toEqual([]);
    await opened.context.close();
  }, 90_000);
});
