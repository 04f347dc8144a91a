// The browser suite's harness: Debian's Chromium driven by playwright-core (never a downloaded browser),
// a Stratus to point it at, and a page object for the drawing page's stable hooks:
// <canvas id="pad">, buttons "Clear Canvas" / "Predict" / "Clear Predictions", #history (newest first,
// data-digit) and #chart (ten bars with data-digit and data-probability).
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import type { Stroke } from '../../src/preprocess/drawing.ts';
import { replayStrokes, type PointerKind } from './pointer-replay.ts';
import { MAIN, REPO, startProcess } from './process.ts';
import { startLocal } from './local-stratus.ts';
import { fitStrokes, type FitOptions } from './stroke-layout.ts';

export const CHROMIUM = process.env.STRATUS_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = resolve(REPO, '.tmp/screenshots');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (as .ci/run does), or set STRATUS_CHROMIUM`);
  }
  // --no-sandbox: CI and this machine run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

export interface StratusUnderTest {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * `in-process` shares the test's process (nothing left behind if the test dies); `child` runs
 * `bun src/main.ts` on its own, so a benchmark's browser driving does not compete with the server's
 * event loop.
 */
export async function startStratus(mode: 'in-process' | 'child' = 'in-process', flags: string[] = []): Promise<StratusUnderTest> {
  if (mode === 'in-process') {
    const running = await startLocal(flags);
    return { url: running.url, stop: () => running.stop() };
  }
  const started = await startProcess(['bun', MAIN], ['--store', 'memory', ...flags]);
  // Drained: a pipe nobody reads fills up after 64 KiB of log lines and then blocks the server.
  for (const stream of [started.proc.stdout, started.proc.stderr]) void stream.pipeTo(new WritableStream()).catch(() => {});
  return {
    url: started.url,
    stop: async () => {
      started.proc.kill('SIGTERM');
      await started.proc.exited;
    },
  };
}

export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };

/** Everything the page complained about: console errors, uncaught exceptions, CSP violations. */
export interface PageProblems {
  readonly consoleErrors: string[];
  readonly pageErrors: string[];
  /** `status url` of every answer ≥ 400: says which resource a "Failed to load resource" error means. */
  readonly failedResponses: string[];
  cspViolations(): Promise<string[]>;
}

export async function watchProblems(page: Page): Promise<PageProblems> {
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (message) => {
    // The location names the resource behind a bare "Failed to load resource".
    if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const failedResponses: string[] = [];
  page.on('response', (response) => {
    if (response.status() >= 400) failedResponses.push(`${response.status()} ${response.url()}`);
  });
  // Init scripts are injected by the browser, not the page, so the page's CSP does not block this one.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  return {
    consoleErrors,
    pageErrors,
    failedResponses,
    cspViolations: () => page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []),
  };
}

export interface Bar {
  readonly digit: number;
  readonly probability: number;
}

export class DrawingPage {
  readonly pad: Locator;
  readonly history: Locator;
  readonly chart: Locator;

  constructor(readonly page: Page) {
    this.pad = page.locator('canvas#pad');
    this.history = page.locator('#history');
    this.chart = page.locator('#chart');
  }

  async open(url: string): Promise<this> {
    await this.page.goto(url);
    await this.pad.waitFor({ state: 'visible' });
    return this;
  }

  async padSize(): Promise<{ width: number; height: number }> {
    const box = await this.pad.boundingBox();
    if (box === null) throw new Error('#pad is not visible');
    return { width: box.width, height: box.height };
  }

  /** Draws `strokes` (any coordinates) fitted into the pad. */
  async draw(strokes: readonly Stroke[], pointer: PointerKind = 'mouse', fit: FitOptions = {}): Promise<void> {
    const placed = fitStrokes(strokes, await this.padSize(), { maxHeightFraction: 0.7, ...fit });
    await replayStrokes(this.page, this.pad, placed, { pointer });
  }

  button(name: 'Clear Canvas' | 'Predict' | 'Clear Predictions'): Locator {
    return this.page.getByRole('button', { name, exact: true });
  }

  /**
   * Clicks the button with real mouse input at its centre, skipping playwright's actionability waits
   * (visible, stable for two frames, enabled): for a benchmark that clicks thousands of times.
   */
  async press(name: 'Clear Canvas' | 'Predict' | 'Clear Predictions'): Promise<void> {
    const box = await this.button(name).boundingBox();
    if (box === null) throw new Error(`button ${name} is not visible`);
    await this.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  }

  /**
   * Clicks Clear Predictions and waits until #history is empty. With playwright's checks, not press: a raw
   * click at where the button was, right after an answer was swapped in, could land while the layout still
   * moved, clear nothing and leave the wait to time out (seen in the benches once in ~1,500 answers).
   */
  async clearPredictions(): Promise<void> {
    await this.button('Clear Predictions').click();
    await this.page.waitForFunction(() => document.querySelectorAll('#history [data-digit]').length === 0);
  }

  /** Presses Predict and waits for a new newest entry in #history; returns its data-digit. */
  async predict(timeoutMs = 10_000, options: { fast?: boolean } = {}): Promise<string> {
    // Remember the entries already shown, whether htmx then replaces #history or inserts into it.
    await this.page.evaluate(() => {
      (window as unknown as { __seenHistory: WeakSet<Element> }).__seenHistory = new WeakSet(Array.from(document.querySelectorAll('#history [data-digit]')));
    });
    if (options.fast) await this.press('Predict');
    else await this.button('Predict').click();
    const handle = await this.page.waitForFunction(
      () => {
        const newest = document.querySelector('#history [data-digit]');
        const seen = (window as unknown as { __seenHistory: WeakSet<Element> }).__seenHistory;
        return newest !== null && !seen.has(newest) ? newest.getAttribute('data-digit') : null;
      },
      undefined,
      { timeout: timeoutMs },
    );
    return (await handle.jsonValue()) as string;
  }

  async historyDigits(): Promise<string[]> {
    return this.history.locator('[data-digit]').evaluateAll((entries) => entries.map((e) => e.getAttribute('data-digit') ?? ''));
  }

  async bars(): Promise<Bar[]> {
    return this.chart.locator('[data-digit][data-probability]').evaluateAll((bars) =>
      bars.map((bar) => ({ digit: Number(bar.getAttribute('data-digit')), probability: Number(bar.getAttribute('data-probability')) })),
    );
  }

  /** How many of the pad's pixels differ from its top-left one: 0 on a blank pad, whatever its colour. */
  async inkedPixels(): Promise<number> {
    return this.pad.evaluate((canvas: HTMLCanvasElement) => {
      const context = canvas.getContext('2d');
      if (context === null) throw new Error('#pad has no 2d context');
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      let differing = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2] || data[i + 3] !== data[3]) differing++;
      }
      return differing;
    });
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const path = resolve(SCREENSHOTS, `${name}.png`);
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }
}

export interface OpenedPage {
  readonly context: BrowserContext;
  readonly drawing: DrawingPage;
  readonly problems: PageProblems;
  /** Everything the page complained about so far, as one list (empty when all is well). */
  allProblems(): Promise<string[]>;
}

/** A fresh context (its own cookies, so its own history) on the drawing page at `url`. */
export async function openDrawingPage(browser: Browser, url: string, options: BrowserContextOptions = {}): Promise<OpenedPage> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const problems = await watchProblems(page);
  const drawing = await new DrawingPage(page).open(url);
  return {
    context,
    drawing,
    problems,
    allProblems: async () => [
      ...problems.consoleErrors.map((e) => `console: ${e}`),
      ...problems.pageErrors.map((e) => `exception: ${e}`),
      ...problems.failedResponses.map((e) => `response: ${e}`),
      ...(await problems.cspViolations()).map((e) => `csp: ${e}`),
    ],
  };
}

/** The most probable bar's digit, or null when the chart shows no probabilities. */
export function topBar(bars: readonly Bar[]): number | null {
  let best: Bar | null = null;
  for (const bar of bars) if (best === null || bar.probability > best.probability) best = bar;
  return best?.digit ?? null;
}
