// `stratus probe URL`, the image's HEALTHCHECK (the distroless image has no curl): exit 0 only for a 2xx
// answered within 2 s; 1 for an error status, a refused connection or a server that does not answer in
// time; a bad command line is one line and exit 2.
import { afterAll, expect, test } from 'bun:test';
import { freePort, MAIN, runToEnd } from '../helpers/process.ts';

const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === '/ok') return new Response('{"live":true}');
    if (path === '/unavailable') return new Response('{"ready":false}', { status: 503 });
    // Never answers within the probe's 2 s.
    await Bun.sleep(5_000);
    return new Response('late');
  },
});
afterAll(() => server.stop(true));
const base = `http://127.0.0.1:${server.port}`;
const probe = (url: string) => runToEnd(['bun', MAIN, 'probe', url]);

test('a 2xx is exit 0, an error status is exit 1', async () => {
  expect((await probe(`${base}/ok`)).code).toBe(0);
  expect((await probe(`${base}/unavailable`)).code).toBe(1);
});

test('nothing listening is exit 1', async () => {
  expect((await probe(`http://127.0.0.1:${freePort()}/v2/health/live`)).code).toBe(1);
});

test('a server slower than the deadline is exit 1', async () => {
  // It answers 200 after 5 s: a probe without its own deadline would wait and exit 0.
  expect((await probe(`${base}/hangs`)).code).toBe(1);
});

test('a bad command line is one line on stderr and exit 2', async () => {
  for (const args of [[], ['not a url'], ['http://127.0.0.1:1/', 'extra']]) {
    const { code, stderr } = await runToEnd(['bun', MAIN, 'probe', ...args]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual(['stratus: usage: stratus probe http://host:port/path']);
  }
});
