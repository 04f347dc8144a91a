// The drawing page as a pure function: the hooks the browser tests rely on, escaping, no inline code.
import { describe, expect, test } from 'bun:test';
import { drawingPage } from '../../src/views/drawing-page.ts';
import { historyPanel } from '../../src/views/history.ts';
import type { PagePrediction } from '../../src/views/prediction.ts';
import { resultSection } from '../../src/views/result.ts';
import { select } from '../helpers/html.ts';

const uniform = new Array(10).fill(0.1);
const peaked = (digit: number) => Array.from({ length: 10 }, (_, d) => (d === digit ? 0.91 : 0.01));

const older: PagePrediction = { id: 'req-0000-1', digits: [3], probabilities: [peaked(3)], modelVersion: 'm1', createdAt: '2026-11-25T10:00:00.000Z' };
const newer: PagePrediction = {
  id: 'req-0000-2',
  digits: [4, 8, 2, 1],
  probabilities: [peaked(4), peaked(8), peaked(2), peaked(1)],
  modelVersion: 'm2',
  createdAt: '2026-11-25T10:01:00.000Z',
};

/** `open`: the predictions stored with their images (labelable); all of them unless it says. */
function page(history: PagePrediction[], modelVersion: string | null = 'm2', open: (id: string) => boolean = () => true) {
  return drawingPage({ modelVersion, history: history.map((entry) => ({ ...entry, labelable: open(entry.id) })), assetVersion: '0.1.0', operatorLinks: true });
}

describe('drawingPage', () => {
  test('has the stable hooks: canvas, the three buttons, #history, and links to the project and /docs', () => {
    const html = page([]);
    expect(select(html, 'canvas#pad')).toHaveLength(1);
    const buttons = select(html, 'button').map((button) => button.text.trim());
    expect(buttons).toEqual(expect.arrayContaining(['Clear Canvas', 'Predict', 'Clear Predictions']));
    expect(select(html, '#history')).toHaveLength(1);
    expect(select(html, '#history > *')).toHaveLength(0);
    const links = select(html, 'a').map((a) => a.attributes.href);
    expect(links).toContain('/docs');
    expect(links).toContain('/models');
    expect(links).toContain('/metrics');
    // Nothing predicted yet: no chart.
    expect(select(html, '#chart')).toHaveLength(0);
  });

  test('with the dashboard and metrics on an --admin-port, the page links to neither (they would be 404 here)', () => {
    const html = drawingPage({ modelVersion: 'm2', history: [], assetVersion: '0.1.0', operatorLinks: false });
    const links = select(html, 'a').map((a) => a.attributes.href);
    expect(links).toContain('/docs');
    expect(links).not.toContain('/models');
    expect(links).not.toContain('/metrics');
  });

  test('history newest first, one element per prediction, data-digit = the whole number', () => {
    const html = page([newer, older]);
    expect(select(html, '#history > *').map((entry) => entry.attributes['data-digit'])).toEqual(['4821', '3']);
    expect(select(html, '#number')[0]?.text).toBe('4821');
  });

  test('#chart is the latest prediction\'s first digit (ten bars); every digit has a .digit-chart', () => {
    const html = page([newer, older]);
    const bars = select(html, '#chart [data-digit]');
    expect(bars).toHaveLength(10);
    expect(bars.map((bar) => Number(bar.attributes['data-probability']))).toEqual(peaked(4));
    expect(select(html, '.digit-chart')).toHaveLength(4);
    expect(select(html, '.digit-chart .bar.top').map((bar) => bar.attributes['data-digit'])).toEqual(['4', '8', '2', '1']);
    expect(select(html, '.model-version')[0]?.text).toBe('m2');
  });

  test('no inline script or style: scripts are files, htmx told not to inject its indicator style', () => {
    const html = page([newer, older]);
    const scripts = select(html, 'script');
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      expect(script.attributes.src).toStartWith('/assets/');
      expect(script.text.trim()).toBe('');
    }
    expect(select(html, 'style')).toHaveLength(0);
    expect(select(html, '[style]')).toHaveLength(0);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toContain('hx-on');
    const config = JSON.parse(select(html, 'meta[name="htmx-config"]')[0]?.attributes.content ?? '{}');
    expect(config.includeIndicatorStyles).toBe(false);
    expect(config.allowEval).toBe(false);
  });

  test('everything interpolated is escaped', () => {
    const evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
    const prediction: PagePrediction = { id: evil, digits: [1], probabilities: [uniform], modelVersion: evil, createdAt: evil };
    const html = page([prediction], evil);
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(select(html, '#model-version')[0]?.text).toBe(evil);
    expect(select(html, '#history > *')[0]?.attributes['data-id']).toBe(evil);
    // The feedback buttons carry the id inside JSON inside an attribute: still one intact value.
    const vals = select(html, '#history button[hx-vals]').map((button) => JSON.parse(button.attributes['hx-vals'] ?? ''));
    expect(vals.length).toBe(11);
    for (const value of vals) expect(value.request).toBe(evil);
  });

  test('feedback is offered only where the images are stored', () => {
    const html = page([newer, older], 'm2', (id) => id === newer.id);
    const [first, second] = [select(html, `#history > [data-id="${newer.id}"] .digit-feedback`), select(html, `#history > [data-id="${older.id}"] .digit-feedback`)];
    expect(first).toHaveLength(4);
    expect(second).toHaveLength(0);
    const right = select(html, `#history > [data-id="${newer.id}"] .fb-right`).map((button) => JSON.parse(button.attributes['hx-vals'] ?? ''));
    expect(right).toEqual([0, 1, 2, 3].map((index) => ({ request: newer.id, index: String(index), label: String(newer.digits[index]) })));
  });
});

test('fragments for htmx: out-of-band blocks say so, targets keep their ids', () => {
  expect(select(historyPanel([older], { oob: true }), '#history-panel')[0]?.attributes['hx-swap-oob']).toBe('true');
  expect(select(resultSection(null, { oob: true }), '#result')[0]?.attributes['hx-swap-oob']).toBe('true');
  expect(select(resultSection(older), '#result')[0]?.attributes['hx-swap-oob']).toBeUndefined();
});
