// GET /models over real HTTP: the registry's versions with their metrics, which one serves, the
// promote/rollback buttons, a strict CSP, and nothing from the store rendered unescaped.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startWithAdmin, storeModel, trainingMetrics, type AdminStratus } from '../helpers/admin-stratus.ts';
import { postJson } from '../helpers/local-stratus.ts';

const count = (markup: string, pattern: RegExp) => (markup.match(pattern) ?? []).length;

describe('model dashboard', () => {
  let stratus: AdminStratus;
  beforeAll(async () => {
    stratus = await startWithAdmin();
  }, 30_000);
  afterAll(() => stratus.stop());

  const getDashboard = async () => {
    const response = await fetch(`${stratus.url}/models`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toStartWith('text/html');
    return { response, html: await response.text() };
  };

  test('a fresh install lists the embedded model as a version, serving, with its report', async () => {
    const { response, html } = await getDashboard();
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(html).not.toContain('The registry holds no model versions yet.');
    const embedded = (await Bun.file(new URL('../../models/embedded/metadata.json', import.meta.url)).json()) as { version: string; testAccuracy: number };
    expect(html).toContain(`id="serving">Serving: <strong>${embedded.version}</strong></p>`);
    expect(html).toContain(`<tr data-version="${embedded.version}" data-state="serving" class="serving">`);
    expect(html).toContain(`${(embedded.testAccuracy * 100).toFixed(2)} %`);
    // Its report: the curves, the accuracy per digit and the confusion matrix of its test run.
    expect(count(html, /<svg class="chart"/g)).toBe(2);
    expect(count(html, /<svg class="heatmap"/g)).toBe(1);
    expect(html).toContain('Accuracy per digit');
    expect(html).not.toMatch(/<script>/); // no inline script: CSP would block it
  });

  test('stored versions show their metrics, charts and a heat map; promote and roll back buttons follow the serving one', async () => {
    await storeModel(stratus.store, { version: 'v1', createdAt: '2026-11-25T10:00:00.000Z', metrics: trainingMetrics(0.9812, 3) });
    await storeModel(stratus.store, { version: 'v2', createdAt: '2026-11-25T11:00:00.000Z', metrics: trainingMetrics(0.9915, 6) });
    await storeModel(stratus.store, { version: 'v3', createdAt: '2026-11-25T12:00:00.000Z' });
    const served = await postJson(`${stratus.url}/api/models/v2/serve`, {}, { authorization: `Bearer ${stratus.token}` });
    expect(served.status).toBe(202);

    const { html } = await getDashboard();
    expect(html).toContain('id="serving">Serving: <strong>v2</strong>');
    expect(html).toMatch(/<tr data-version="v2" data-state="serving" class="serving">.*99\.15 %.*99\.05 %.*serving<\/span>/);
    expect(html).toContain('<button type="button" data-serve-version="v3" aria-label="Promote v3">Promote</button>');
    expect(html).toContain('<button type="button" data-serve-version="v1" aria-label="Roll back v1">Roll back</button>');
    // v1 and v3, and the embedded model (trained a day later than these three, so listed above them).
    expect(count(html, /data-serve-version=/g)).toBe(3);
    const embedded = (await Bun.file(new URL('../../models/embedded/report.json', import.meta.url)).json()) as { modelVersion: string; history: unknown[] };
    expect(html).toContain(`data-serve-version="${embedded.modelVersion}" aria-label="Promote ${embedded.modelVersion}"`);
    // v1, v2 and the embedded model each: a loss and an accuracy chart, a 10×10 heat map; v3 has no metrics and says so.
    expect(count(html, /<svg class="chart"/g)).toBe(6);
    expect(count(html, /<svg class="heatmap"/g)).toBe(3);
    expect(count(html, /<g class="cell"/g)).toBe(300);
    expect(count(html, /<circle class="point"/g)).toBe(2 * 2 * (3 + 6 + embedded.history.length));
    expect(html).toContain('The trainer recorded no metrics for this version.');
    expect(html).toContain('<details id="model-v2" class="model" open>');
  }, 30_000);

  test("a training run's checkpoints are neither listed nor servable", async () => {
    await storeModel(stratus.store, { version: 'checkpoint-job1-epoch-2', createdAt: '2026-11-25T13:00:00.000Z', metrics: { checkpoint: { jobId: 'job1', epoch: 2 } } });
    const { html } = await getDashboard();
    expect(html).not.toContain('checkpoint-job1-epoch-2');
    const listed = (await (await fetch(`${stratus.url}/v2/models/mnist`)).json()) as unknown;
    expect(JSON.stringify(listed)).not.toContain('checkpoint-job1');
    const served = await postJson(`${stratus.url}/api/models/checkpoint-job1-epoch-2/serve`, {}, { authorization: `Bearer ${stratus.token}` });
    expect(served.status).toBe(404);
  });

  test('whatever the store holds is escaped', async () => {
    const hostile = '"><script>alert(1)</script>';
    await storeModel(stratus.store, { version: `x${hostile}`, createdAt: hostile, metrics: { arch: hostile, trainedAt: hostile } });
    const { html } = await getDashboard();
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  test('its script and stylesheet are served same-origin with the right types', async () => {
    const script = await fetch(`${stratus.url}/assets/dashboard.js`);
    expect(script.headers.get('content-type')).toStartWith('text/javascript');
    expect(await script.text()).toContain("'/api/models/' + encodeURIComponent(version) + '/serve'");
    const style = await fetch(`${stratus.url}/assets/dashboard.css`);
    expect(style.headers.get('content-type')).toStartWith('text/css');
  });
});
