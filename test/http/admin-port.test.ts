// --admin-port over real HTTP: metrics, the model admin endpoints and the dashboard answer on the admin
// port and nowhere else, while probes, the page and predictions stay on --port (the one an Ingress
// routes); without the flag, everything is on the one port as before. And what the flag may be given.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ConfigError, parseCli } from '../../src/config.ts';
import { createSplitApps } from '../../src/http/app.ts';
import { createLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics.ts';
import { PortInUseError } from '../../src/runtime.ts';
import { postJson, startLocal } from '../helpers/local-stratus.ts';
import { tinyModel } from '../helpers/tiny-model.ts';

const TOKEN = `admin-port-test-${'0123456789abcdef'.repeat(2)}`;
const AUTH = { authorization: `Bearer ${TOKEN}` };
const EMBEDDED = ((await Bun.file(new URL('../../models/embedded/metadata.json', import.meta.url)).json()) as { version: string }).version;

function publishBody(version: string) {
  const { modelJson, weightsBin } = tinyModel();
  return { version, modelJson, weightsBase64: Buffer.from(weightsBin).toString('base64') };
}

/** The status and stable code of an error answer: in the body, or, on the Open Inference Protocol's
 * routes (/v2…), whose body is `{"error": "<message>"}`, in the Stratus-Error-Code header. */
async function errorCode(response: Response): Promise<[number, string | null]> {
  const { error } = (await response.json()) as { error: string | { code: string } };
  return [response.status, typeof error === 'string' ? response.headers.get('stratus-error-code') : error.code];
}

type Stratus = Awaited<ReturnType<typeof startLocal>>;

describe('with --admin-port', () => {
  let stratus: Stratus;
  let admin: string;
  beforeAll(async () => {
    stratus = await startLocal(['--admin-port', '0'], {}, { STRATUS_ADMIN_TOKEN: TOKEN });
    if (stratus.adminUrl === null) throw new Error('--admin-port 0 gave no admin listener');
    admin = stratus.adminUrl;
  }, 30_000);
  afterAll(() => stratus?.stop());

  test('the admin listener is a port of its own, on the same host', () => {
    expect(stratus.adminPort).not.toBe(stratus.port);
    expect(new URL(admin).hostname).toBe(new URL(stratus.url).hostname);
  });

  test('/metrics answers on the admin port, and 404 on the public one', async () => {
    const metrics = await fetch(`${admin}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toStartWith('text/plain');
    expect(await metrics.text()).toContain('stratus_');
    expect(await errorCode(await fetch(`${stratus.url}/metrics`))).toEqual([404, 'not_found']);
  });

  test('publish and serve work on the admin port; the public port refuses them and stores nothing', async () => {
    // POST /api/models shares its path with the public registry listing, so the public port names the
    // method it does take; serve has no public route at all.
    const refused = await postJson(`${stratus.url}/api/models`, publishBody('via-public'), AUTH);
    expect(await errorCode(refused)).toEqual([405, 'method_not_allowed']);
    expect(refused.headers.get('allow')).toBe('GET');
    expect(await errorCode(await postJson(`${stratus.url}/api/models/${EMBEDDED}/serve`, {}, AUTH))).toEqual([404, 'not_found']);

    // The tiny model's weights are made up: the consumer loads it and refuses it at the smoke check.
    const published = await postJson(`${admin}/api/models`, publishBody('via-admin'), AUTH);
    expect(published.status).toBe(201);
    expect(await published.json()).toMatchObject({ version: 'via-admin', state: 'refused' });
    const served = await postJson(`${admin}/api/models/${EMBEDDED}/serve`, {}, AUTH);
    expect([served.status, await served.json()]).toEqual([202, { version: EMBEDDED, state: 'serving' }]);

    // The registry's listing is public, and shows what the admin port did and nothing the public port was asked.
    const registry = (await (await fetch(`${stratus.url}/api/models`)).json()) as { serving: string; versions: { version: string }[] };
    expect(registry.serving).toBe(EMBEDDED);
    expect(registry.versions.map((v) => v.version)).toContain('via-admin');
    expect(registry.versions.map((v) => v.version)).not.toContain('via-public');
  }, 30_000);

  test('the admin port still asks for the token', async () => {
    expect(await errorCode(await postJson(`${admin}/api/models/${EMBEDDED}/serve`, {}))).toEqual([401, 'unauthorized']);
  });

  test('the model dashboard is on the admin port, beside the endpoints its buttons call', async () => {
    const dashboard = await fetch(`${admin}/models`);
    expect(dashboard.status).toBe(200);
    const html = await dashboard.text();
    expect(html).toContain(`data-version="${EMBEDDED}"`);
    // No link to the page, which is not on this port.
    expect(html).not.toContain('href="/"');
    expect((await fetch(`${admin}/assets/dashboard.js`)).status).toBe(200);
    expect(await errorCode(await fetch(`${stratus.url}/models`))).toEqual([404, 'not_found']);
    // Its stylesheet stays public: /docs wears it.
    expect((await fetch(`${stratus.url}/assets/dashboard.css`)).status).toBe(200);
  });

  test('probes, the page and predictions stay on the public port, and are not on the admin port', async () => {
    expect((await fetch(`${stratus.url}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`${stratus.url}/v2/health/live`)).status).toBe(200);
    const page = await fetch(`${stratus.url}/`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    // Nor links from the page to the dashboard or the metrics, which are not on this port.
    const pageHtml = await page.text();
    expect(pageHtml).not.toContain('href="/models"');
    expect(pageHtml).not.toContain('href="/metrics"');
    const prediction = await postJson(`${stratus.url}/api/predict`, { pixels: new Array(784).fill(0) });
    expect(prediction.status).toBe(200);
    expect(await prediction.json()).toMatchObject({ digit: expect.any(Number), model: { version: EMBEDDED } });

    for (const path of ['/v2/health/ready', '/', '/v2/models/mnist']) expect(await errorCode(await fetch(`${admin}${path}`))).toEqual([404, 'not_found']);
    expect(await errorCode(await postJson(`${admin}/api/predict`, { pixels: new Array(784).fill(0) }))).toEqual([404, 'not_found']);
  });

  test("each port's /docs documents its own routes and none of the other's", async () => {
    const paths = async (base: string) => Object.keys(((await (await fetch(`${base}/docs/json`)).json()) as { paths: Record<string, unknown> }).paths);
    const publicPaths = await paths(stratus.url);
    const adminPaths = await paths(admin);
    expect(publicPaths).toContain('/api/predict');
    expect(publicPaths).toContain('/v2/health/ready');
    expect(publicPaths).not.toContain('/metrics');
    expect(publicPaths.some((p) => p.endsWith('/serve'))).toBe(false);
    expect(adminPaths).toContain('/metrics');
    expect(adminPaths).toContain('/api/models/{version}/serve');
    expect(adminPaths).not.toContain('/api/predict');
    expect(adminPaths.filter((p) => publicPaths.includes(p) && p !== '/api/models')).toEqual([]);
  });
});

describe('with --admin-port and --metrics-port', () => {
  let stratus: Stratus;
  let metricsUrl: string;
  beforeAll(async () => {
    stratus = await startLocal(['--admin-port', '0', '--metrics-port', '0'], {}, { STRATUS_ADMIN_TOKEN: TOKEN });
    if (stratus.metricsUrl === null || stratus.adminUrl === null) throw new Error('--metrics-port 0 gave no metrics listener');
    metricsUrl = stratus.metricsUrl;
  }, 30_000);
  afterAll(() => stratus?.stop());

  test('/metrics answers on the metrics port alone: 404 on the admin port and the public one', async () => {
    const metrics = await fetch(`${metricsUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('stratus_');
    for (const base of [stratus.adminUrl!, stratus.url]) expect(await errorCode(await fetch(`${base}/metrics`))).toEqual([404, 'not_found']);
  });

  test('the metrics port serves nothing else: what reaches it for the metrics cannot call the admin API', async () => {
    for (const path of ['/models', '/docs', '/v2/health/ready', '/', '/api/feedback']) expect(await errorCode(await fetch(`${metricsUrl}${path}`))).toEqual([404, 'not_found']);
    expect(await errorCode(await postJson(`${metricsUrl}/api/models/${EMBEDDED}/serve`, {}, AUTH))).toEqual([404, 'not_found']);
    // The admin port keeps the dashboard and the endpoints its buttons call.
    expect((await fetch(`${stratus.adminUrl}/models`)).status).toBe(200);
    const served = await postJson(`${stratus.adminUrl}/api/models/${EMBEDDED}/serve`, {}, AUTH);
    expect(served.status).toBe(202);
  });
});

describe('without --admin-port', () => {
  let stratus: Stratus;
  beforeAll(async () => {
    stratus = await startLocal([], {}, { STRATUS_ADMIN_TOKEN: TOKEN });
  }, 30_000);
  afterAll(() => stratus?.stop());

  test('metrics, the dashboard, publish and serve are on the one port, beside probes and predictions', async () => {
    expect([stratus.adminUrl, stratus.adminPort]).toEqual([null, null]);
    expect((await fetch(`${stratus.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${stratus.url}/models`)).status).toBe(200);
    expect((await fetch(`${stratus.url}/v2/health/ready`)).status).toBe(200);
    expect((await postJson(`${stratus.url}/api/predict`, { pixels: new Array(784).fill(0) })).status).toBe(200);
    const published = await postJson(`${stratus.url}/api/models`, publishBody('one-port'), AUTH);
    expect(published.status).toBe(201);
    const served = await postJson(`${stratus.url}/api/models/${EMBEDDED}/serve`, {}, AUTH);
    expect([served.status, await served.json()]).toEqual([202, { version: EMBEDDED, state: 'serving' }]);
  }, 30_000);
});

describe('a process that runs no gateway', () => {
  // A consumer or trainer with --admin-port: metrics there, probes on --port, nothing else on either.
  test('serves /metrics on the admin port and its probes on the public one', async () => {
    const { main, admin } = createSplitApps({ readiness: { notReadyReasons: () => [] }, metrics: new Metrics(), logger: createLogger('silent'), maxBodyBytes: 1024 });
    const get = (app: typeof main, path: string) => app.handle(new Request(`http://stratus.test${path}`));
    expect((await get(admin, '/metrics')).status).toBe(200);
    expect((await get(main, '/metrics')).status).toBe(404);
    expect((await get(main, '/v2/health/ready')).status).toBe(200);
    for (const path of ['/v2/health/ready', '/v2/health/live', '/docs', '/models']) expect((await get(admin, path)).status).toBe(404);
  });

  test('with --metrics-port, /metrics moves to the third app and the admin port keeps nothing', async () => {
    const { main, admin, metrics } = createSplitApps({ readiness: { notReadyReasons: () => [] }, metrics: new Metrics(), logger: createLogger('silent'), maxBodyBytes: 1024 }, true);
    const get = (app: typeof main, path: string) => app.handle(new Request(`http://stratus.test${path}`));
    expect((await get(metrics!, '/metrics')).status).toBe(200);
    expect((await get(admin, '/metrics')).status).toBe(404);
    expect((await get(main, '/v2/health/ready')).status).toBe(200);
    expect((await get(metrics!, '/v2/health/ready')).status).toBe(404);
  });
});

describe('--admin-port, as configured', () => {
  test('comes from the flag or STRATUS_ADMIN_PORT, and is off by default', () => {
    const configOf = (argv: string[], env: Record<string, string> = {}) => {
      const action = parseCli(argv, env);
      if (action.kind !== 'run') throw new Error('unexpected CLI action');
      return action.config;
    };
    expect(configOf([]).adminPort).toBeNull();
    expect(configOf([], { STRATUS_ADMIN_PORT: '9090' }).adminPort).toBe(9090);
    expect(configOf(['--admin-port', '9191'], { STRATUS_ADMIN_PORT: '9090' }).adminPort).toBe(9191);
  });

  test('may not be --port, given or defaulted, except 0 (a free port for each)', () => {
    expect(() => parseCli(['--port', '4000', '--admin-port', '4000'], {})).toThrow(ConfigError);
    expect(() => parseCli(['--admin-port', '3000'], {})).toThrow(/--admin-port 3000 is --port too/);
    expect(() => parseCli(['--port', '0', '--admin-port', '0'], {})).not.toThrow();
    expect(() => parseCli(['--admin-port', '70000'], {})).toThrow(ConfigError);
  });

  test('--metrics-port needs --admin-port, and a port neither of the others has', () => {
    expect(() => parseCli(['--metrics-port', '9100'], {})).toThrow(/--metrics-port takes \/metrics off the admin port: give --admin-port too/);
    expect(() => parseCli(['--admin-port', '9090', '--metrics-port', '9090'], {})).toThrow(/--metrics-port 9090 is --port or --admin-port too/);
    expect(() => parseCli(['--admin-port', '9090', '--metrics-port', '3000'], {})).toThrow(/--metrics-port 3000 is --port or --admin-port too/);
    const action = parseCli(['--admin-port', '9090'], { STRATUS_METRICS_PORT: '9100' });
    expect(action.kind === 'run' && action.config.metricsPort).toBe(9100);
  });

  test('taken by another process: the start fails and says which port', async () => {
    const squatter = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('mine') });
    try {
      const start = startLocal(['--admin-port', String(squatter.port)]);
      await expect(start).rejects.toBeInstanceOf(PortInUseError);
      await expect(start).rejects.toThrow(`port ${squatter.port} on 127.0.0.1 is in use`);
    } finally {
      squatter.stop(true);
    }
  });
});
