// The drawing page over real HTTP, real model, in-memory transport and store: the hooks, the session
// history, Clear Predictions, feedback, the security headers and the same-origin rule.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import type { Drawing, Point } from '../../src/preprocess/drawing.ts';
import { select } from '../helpers/html.ts';
import { preprocessFixture } from '../helpers/preprocess-fixtures.ts';
import { sessionIdOf } from '../helpers/sessions.ts';
import { fromHexRows } from '../preprocess/mnist-framing.ts';
import { postJson, startLocal } from '../helpers/local-stratus.ts';

// A 500×200 canvas: a "1" is a vertical line, a "0" an ellipse; side by side they are the number 10.
const line = (x: number): Point[] => Array.from({ length: 29 }, (_, i) => ({ x, y: 30 + i * 5 }));
const ellipse = (cx: number): Point[] =>
  Array.from({ length: 41 }, (_, i) => ({ x: cx + 40 * Math.sin((i / 40) * 2 * Math.PI), y: 100 - 70 * Math.cos((i / 40) * 2 * Math.PI) }));
const drawing = (...strokes: Point[][]): Drawing => ({ width: 500, height: 200, strokes });

let stratus: Awaited<ReturnType<typeof startLocal>>;
let store: PouchStore;

beforeAll(async () => {
  store = new PouchStore({ adapter: 'memory', directory: `page-${crypto.randomUUID()}` });
  stratus = await startLocal([], { store });
}, 30_000);
afterAll(() => stratus.stop());

/** A visitor: keeps the session cookie the server gives, like a browser, and posts as the page does. */
class Visitor {
  cookie = '';

  async open(): Promise<string> {
    const response = await fetch(`${stratus.url}/`, { headers: this.headers() });
    expect(response.status).toBe(200);
    this.keep(response);
    return response.text();
  }

  async post(path: string, body: unknown, extra: Record<string, string> = {}): Promise<Response> {
    const response = await postJson(`${stratus.url}${path}`, body, { ...this.headers(), origin: stratus.url, 'sec-fetch-site': 'same-origin', ...extra });
    this.keep(response);
    return response;
  }

  async predict(value: Drawing): Promise<string> {
    const response = await this.post('/page/predict', { drawing: value });
    expect(response.status).toBe(200);
    return response.text();
  }

  private headers(): Record<string, string> {
    return this.cookie ? { cookie: this.cookie } : {};
  }

  private keep(response: Response): void {
    const set = response.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0] as string;
  }
}

const historyDigits = (html: string) => select(html, '#history > *').map((entry) => entry.attributes['data-digit']);

describe('the page', () => {
  test('renders the hooks the browser tests use', async () => {
    const html = await new Visitor().open();
    expect(select(html, 'canvas#pad')).toHaveLength(1);
    const buttons = select(html, 'button').map((button) => button.text.trim());
    for (const name of ['Clear Canvas', 'Predict', 'Clear Predictions']) expect(buttons).toContain(name);
    expect(select(html, '#history')).toHaveLength(1);
    expect(select(html, 'a[href="/docs"]')).toHaveLength(1);
    expect(select(html, '#model-version')[0]?.text).toMatch(/\S/);
  });

  test('a new visitor gets an HttpOnly, SameSite=Lax session cookie; a known one keeps theirs', async () => {
    const first = await fetch(`${stratus.url}/`);
    const cookie = first.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^stratus_session=[0-9a-f-]{36}\.[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/');
    const again = await fetch(`${stratus.url}/`, { headers: { cookie: cookie.split(';')[0] as string } });
    expect(again.headers.get('set-cookie')).toBeNull();
    // A malformed value, or an id the client chose (fixation), is not used: a fresh one is issued.
    for (const made of ['<x>', 'aaaaaaaa', sessionIdOf(cookie), `${crypto.randomUUID()}.${cookie.split('.')[1]?.slice(0, 43)}`]) {
      const forged = await fetch(`${stratus.url}/`, { headers: { cookie: `stratus_session=${made}` } });
      const issued = forged.headers.get('set-cookie') ?? '';
      expect(issued).toMatch(/^stratus_session=[0-9a-f-]{36}\.[A-Za-z0-9_-]{43};/);
      expect(sessionIdOf(issued)).not.toBe(sessionIdOf(cookie));
    }
  });

  test('security headers: a CSP without unsafe-inline scripts, nosniff, referrer policy, no framing', async () => {
    for (const path of ['/', '/api/nothing-here', '/v2/health/live']) {
      const response = await fetch(`${stratus.url}${path}`);
      const csp = response.headers.get('content-security-policy') ?? '';
      const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
      expect(directives.get('script-src')).toEqual(["'self'"]);
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('same-origin');
    }
  });

  test('the script, the stylesheet and htmx are served from the app', async () => {
    const pad = await fetch(`${stratus.url}/assets/pad.js`);
    expect(pad.headers.get('content-type')).toStartWith('text/javascript');
    const script = await pad.text();
    expect(script).toContain("defineExtension('stratus-json'");
    expect(script).toContain('pointerdown');
    const css = await fetch(`${stratus.url}/assets/page.css`);
    expect(css.headers.get('content-type')).toStartWith('text/css');
    expect(await css.text()).toMatch(/#pad\s*{[^}]*touch-action:\s*none/);
    const htmx = await fetch(`${stratus.url}/assets/htmx.min.js`);
    expect(htmx.status).toBe(200);
    expect(await htmx.text()).toContain('2.0.8');
  });
});

describe('predicting from the page', () => {
  test('Predict answers the chart and the number, with the history out of band, newest first', async () => {
    const visitor = new Visitor();
    await visitor.open();
    const first = await visitor.predict(drawing(line(100), ellipse(300)));
    expect(select(first, '#result')).toHaveLength(1);
    expect(select(first, '#number')[0]?.text).toBe('10');
    const bars = select(first, '#chart [data-digit]');
    expect(bars.map((bar) => bar.attributes['data-digit'])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const probabilities = bars.map((bar) => Number(bar.attributes['data-probability']));
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    expect(probabilities.indexOf(Math.max(...probabilities))).toBe(1);
    expect(select(first, '.digit-chart')).toHaveLength(2);
    expect(select(first, '#history-panel')[0]?.attributes['hx-swap-oob']).toBe('true');
    expect(historyDigits(first)).toEqual(['10']);

    const second = await visitor.predict(drawing(line(250)));
    expect(select(second, '#number')[0]?.text).toBe('1');
    expect(historyDigits(second)).toEqual(['1', '10']);

    // The history is kept on the server, per session: a reload shows it; another visitor sees none of it.
    expect(historyDigits(await visitor.open())).toEqual(['1', '10']);
    expect(historyDigits(await new Visitor().open())).toEqual([]);
  }, 30_000);

  test('Clear Predictions empties the history, also after a reload', async () => {
    const visitor = new Visitor();
    await visitor.open();
    await visitor.predict(drawing(line(100)));
    expect(historyDigits(await visitor.open())).toEqual(['1']);
    const cleared = await visitor.post('/page/clear', {});
    expect(cleared.status).toBe(200);
    const fragment = await cleared.text();
    expect(select(fragment, '#history')).toHaveLength(1);
    expect(historyDigits(fragment)).toEqual([]);
    expect(select(fragment, '#result')[0]?.attributes['hx-swap-oob']).toBe('true');
    expect(historyDigits(await visitor.open())).toEqual([]);
    expect(await store.sessionHistory(sessionIdOf(visitor.cookie), 10)).toEqual([]);
  }, 30_000);

  test('feedback stores the label with the very pixels the model saw', async () => {
    const visitor = new Visitor();
    await visitor.open();
    // "10", drawn as a bar and an ellipse; the image the model sees of the 0 is a fixture, checked once.
    const ten = await preprocessFixture('number-10');
    const fragment = await visitor.predict(ten.drawing);
    const requestId = select(fragment, '#result')[0]?.attributes['data-id'] as string;
    // The page's own buttons say what to send: take the second digit's "it was a 6".
    const buttons = select(fragment, '#history .digit-feedback[data-position="1"] button[aria-label="it was a 6"]');
    expect(buttons).toHaveLength(1);
    const vals = JSON.parse(buttons[0]?.attributes['hx-vals'] ?? '');
    expect(vals).toEqual({ request: requestId, index: '1', label: '6' });

    const response = await visitor.post('/page/feedback', vals);
    expect(response.status).toBe(200);
    expect(select(await response.text(), '.fb-recorded')[0]?.text).toBe('thanks: sent as a 6, for review');

    const saved = (await store.listFeedback(100)).find((sample) => sample.requestId === requestId);
    expect(saved?.id).toMatch(/^image-[0-9a-f]{32}$/);
    expect(saved).toMatchObject({ label: 6, predicted: 0, sessionId: sessionIdOf(visitor.cookie) });
    // As the model saw them: whole 1/255 steps, as they travel to the consumer.
    const expected = Array.from(fromHexRows(ten.images[1]!.hex), (byte) => byte / 255);
    expect(saved?.pixels).toHaveLength(784);
    expect(saved?.pixels).toEqual(expected);

    // Answering again replaces the label.
    expect((await visitor.post('/page/feedback', { ...vals, label: '0' })).status).toBe(200);
    const replaced = (await store.listFeedback(100)).filter((sample) => sample.requestId === requestId);
    expect(replaced.map((sample) => sample.label)).toEqual([0]);
  }, 30_000);

  test('feedback is refused for another visitor\'s prediction, a bad label, or a digit that is not there', async () => {
    const owner = new Visitor();
    await owner.open();
    const fragment = await owner.predict(drawing(line(100)));
    const request = select(fragment, '#result')[0]?.attributes['data-id'] as string;
    const stranger = new Visitor();
    await stranger.open();
    const cases: [Visitor, unknown, number][] = [
      [stranger, { request, index: '0', label: '1' }, 410],
      [owner, { request, index: '1', label: '1' }, 422],
      [owner, { request, index: '0', label: '10' }, 422],
      [owner, { request, index: '0', label: 'x' }, 422],
      [owner, { request: '../../etc', index: '0', label: '1' }, 422],
      [owner, { index: '0', label: '1' }, 422],
    ];
    for (const [visitor, body, status] of cases) {
      const response = await visitor.post('/page/feedback', body);
      expect(response.status).toBe(status);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBeString();
    }
    expect((await store.listFeedback(100)).filter((sample) => sample.requestId === request)).toEqual([]);
  }, 30_000);

  test('a bad drawing is a short 422 that does not echo it', async () => {
    const visitor = new Visitor();
    await visitor.open();
    const bad = [
      { width: 500, height: 200, strokes: [] },
      { width: -1, height: 200, strokes: [line(100)] },
      { width: 500, height: 200, strokes: [[{ x: 'x123.456789', y: 1 }]] },
      null,
    ];
    for (const value of bad) {
      const response = await visitor.post('/page/predict', { drawing: value });
      expect(response.status).toBe(422);
      const text = await response.text();
      expect(text.length).toBeLessThan(300);
      expect(text).not.toContain('123.456789');
      expect(((JSON.parse(text) as { error: { code: string } }).error.code)).toBe('invalid_drawing');
    }
  });
});

describe('the same-origin rule and the JSON rule', () => {
  test('a cross-site POST is refused with 403 before it does anything', async () => {
    const visitor = new Visitor();
    await visitor.open();
    await visitor.predict(drawing(line(100)));
    const attempts: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site', origin: stratus.url },
      { 'sec-fetch-site': '', origin: 'https://evil.example' },
      { 'sec-fetch-site': '', origin: 'null' },
    ];
    for (const headers of attempts) {
      // Built by hand: the Visitor's defaults say same-origin.
      const clean = Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== ''));
      for (const path of ['/page/clear', '/page/predict', '/api/predict']) {
        const response = await postJson(`${stratus.url}${path}`, { drawing: drawing(line(100)) }, { cookie: visitor.cookie, ...clean });
        expect(response.status).toBe(403);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('cross_site');
      }
    }
    // Nothing was cleared or added.
    expect(historyDigits(await visitor.open())).toEqual(['1']);
    // The same origin, and API clients that are no browser page (no Origin, no Sec-Fetch-Site), pass.
    expect((await postJson(`${stratus.url}/api/predict`, { drawing: drawing(line(100)) }, { origin: stratus.url })).status).toBe(200);
    expect((await postJson(`${stratus.url}/api/predict`, { drawing: drawing(line(100)) })).status).toBe(200);
  }, 30_000);

  test('page endpoints take JSON only (no form posts), and a small body only', async () => {
    const visitor = new Visitor();
    await visitor.open();
    const form = await fetch(`${stratus.url}/page/clear`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: visitor.cookie, origin: stratus.url },
      body: 'a=1',
    });
    expect(form.status).toBe(415);
    const big = await visitor.post('/page/predict', { drawing: drawing(line(100)), padding: 'x'.repeat(600_000) });
    expect(big.status).toBe(413);
    const malformed = await visitor.post('/page/predict', '{"drawing": ');
    expect(malformed.status).toBe(400);
  });
});
