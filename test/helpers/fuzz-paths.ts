// Paths for the static-file and raw-HTTP fuzz suites: segments that name real routes and files, traversal
// in every spelling (raw, percent-encoded, double-encoded, overlong UTF-8, backslashes, NUL), names of
// files outside the served set, unicode and long segments; and the route table a 2xx must come from.
import fc from 'fast-check';

/** What the local-mode server routes, by method (HEAD answers wherever GET does). */
export const GET_ROUTES: ReadonlySet<string> = new Set([
  '/', '/assets/pad.js', '/assets/page.css', '/assets/htmx.min.js', '/assets/dashboard.js', '/assets/dashboard.css',
  '/models', '/docs', '/docs/json', '/v2', '/v2/health/live', '/v2/health/ready', '/metrics', '/api/models',
  '/v2/models/mnist', '/v2/models/mnist/ready',
]);
const POST_ROUTES: ReadonlySet<string> = new Set(['/api/predict', '/v2/models/mnist/infer', '/page/predict', '/page/clear', '/page/feedback', '/api/models']);
const SERVE_ROUTE = /^\/api\/models\/[^/]+\/serve$/;

export const ASSETS: readonly string[] = [...GET_ROUTES].filter((path) => path.startsWith('/assets/'));

/**
 * Whether a 2xx may answer `method` on `target` (a request target as sent): its path, resolved as a URL
 * parser resolves it (dot segments, %2e), with repeated slashes collapsed and one trailing slash dropped
 * (the router's leniency), must be a route. A 2xx anywhere else would serve what no route serves.
 */
export function mayBeServed(method: string, target: string): boolean {
  let path: string;
  try {
    path = urlOf(target).pathname;
  } catch {
    return false;
  }
  path = path.replace(/\/{2,}/g, '/');
  if (path.length > 1) path = path.replace(/\/$/, '');
  const upper = method.toUpperCase();
  if (upper === 'GET' || upper === 'HEAD') return GET_ROUTES.has(path);
  if (upper === 'POST') return POST_ROUTES.has(path) || SERVE_ROUTE.test(path);
  return false;
}

/** The canonical route a target resolves to, when it is an asset: its answer must be that asset. */
export function assetOf(target: string): string | null {
  try {
    const path = urlOf(target).pathname.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
    return ASSETS.includes(path) ? path : null;
  } catch {
    return null;
  }
}

/** A target as a URL: an absolute one as it is, a path (even one starting `//`) under this host. */
function urlOf(target: string): URL {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? new URL(target) : new URL(`http://localhost${target.startsWith('/') ? '' : '/'}${target}`);
}

const traversal = fc.constantFrom(
  '..', '.', '%2e%2e', '%2E%2E', '%2e.', '.%2e', '%252e%252e', '..%2f', '..%2F..%2F', '..%5c', '..\\', '%2f', '%5c', '%c0%ae%c0%ae',
  '%e0%80%ae%e0%80%ae', '..;', '.%00.', '....//', '..%00', '%00', '%0a', '%0d%0a', '%ff', '%', '%zz', '%u002e', '~', '*', ';x=1',
);
const known = fc.constantFrom(
  'assets', 'pad.js', 'page.css', 'htmx.min.js', 'dashboard.js', 'dashboard.css', 'models', 'docs', 'json', 'v2', 'health', 'live',
  'ready', 'api', 'predict', 'page', 'clear', 'feedback', 'metrics', 'mnist', 'infer', 'serve', 'static', 'views', 'embedded',
);
const outside = fc.constantFrom('etc', 'passwd', 'package.json', '.git', 'config', 'HEAD', 'src', 'main.ts', '.env', 'node_modules', 'proc', 'self', 'environ', 'win.ini', 'C:', 'bunfig.toml', 'models', 'embedded', 'weights.bin', 'model.json');
const unicode = fc.constantFrom('é', '%C3%A9', '\u202e', '💥', 'ＡＳＳＥＴＳ', 'ａｓｓｅｔｓ', 'assets\u200b', 'pad\u2024js', 'İ', 'ß', '\ufeff');

/** One path segment, as it would be written in a URL (a fetch'd URL percent-encodes what must be). */
export const segment: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: known },
  { weight: 6, arbitrary: traversal },
  { weight: 3, arbitrary: outside },
  { weight: 2, arbitrary: unicode },
  { weight: 2, arbitrary: fc.webSegment() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => !s.includes('?') && !s.includes('#')) },
  { weight: 1, arbitrary: fc.integer({ min: 256, max: 6_000 }).map((n) => 'a'.repeat(n)) },
);

/** A path: mostly a real route or asset, or a few segments around one, with a query now and then. */
export const urlPath: fc.Arbitrary<string> = fc
  .record({
    route: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...GET_ROUTES, ...POST_ROUTES) }, { weight: 7, arbitrary: fc.constant('') }),
    before: fc.array(segment, { maxLength: 5 }),
    after: fc.array(segment, { maxLength: 3 }),
    slashes: fc.constantFrom('/', '/', '/', '//', '\\', '/./'),
    trailing: fc.constantFrom('', '', '', '/', '%2f', '.', '%00', '?', '#x'),
    query: fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.webQueryParameters().map((q) => `?${q}`) }, { weight: 1, arbitrary: fc.constantFrom('?../../etc/passwd', '?%00', '?file=/etc/passwd') }),
  })
  .map(({ route, before, after, slashes, trailing, query }) => {
    const parts = [...before, ...route.split('/').filter(Boolean), ...after];
    return `/${parts.join(slashes)}${parts.length > 0 ? trailing : ''}${query}`;
  });
