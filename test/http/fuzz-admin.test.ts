// Property-based fuzzing of the model registry's HTTP face with fast-check: publishing (POST /api/models)
// and serving (POST /api/models/:version/serve) with the admin token and broken bodies, odd version names
// and paths; then without it (missing, malformed or wrong tokens, which lock the client out with a 429);
// the registry's reads under any query; and a server with the admin endpoints off. An independent check,
// written here, says which admin requests must be carried out (201/202); every other one must get a short
// JSON 4xx, none a 5xx, and the process must answer and hold no more memory afterwards.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import { startLocal } from '../helpers/local-stratus.ts';
import { byteLength, describeRequest, errorCode, expectEveryOutcome, expectVerdict, fuzzRoutes, isPlainObject, NO_RATE_LIMITS, printable, Tally, type Answer, type Body, type FuzzRequest } from '../helpers/fuzz-http.ts';
import { expectAlive, expectSettledMemory, settledRss } from '../helpers/fuzz-memory.ts';
import { contentType, junkValue, parseBody, postHeaders, rarely, rawBody, siteHeaders, toJsonText, wrongValue, type ContentType, type SiteHeaders } from '../helpers/fuzz-values.ts';
import { tinyModel } from '../helpers/tiny-model.ts';

const SEED = 1_705_006;
const PUBLISH_CASES = 1_200;
const SERVE_CASES = 600;
const TOKEN_CASES = 480;
/** Refusals for too many wrong tokens are paused 250 ms each (app.ts): sent this many at once, they overlap. */
const TOKEN_BATCH = 48;
const READ_CASES = 600;
const DISABLED_CASES = 600;
/** Publishing takes --max-body-bytes, 16 MiB by default. */
const BODY_LIMIT = 16 * 1024 * 1024;
const TOKEN = `fuzz-${crypto.randomUUID()}`;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const TINY = tinyModel();
const TINY_WEIGHTS = Buffer.from(TINY.weightsBin).toString('base64');

interface AdminCase extends FuzzRequest {
  readonly contentType: ContentType;
  readonly site: SiteHeaders;
  readonly authorized: boolean;
}

const versionName = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>('', '-x', '.x', '_x', 'a/b', 'a b', 'a\nb', 'é', 'a'.repeat(100), 'a'.repeat(101), '..', '../x', 'a%2Fb', 'CON', '\u0000') },
  { weight: 1, arbitrary: wrongValue },
);

/** A publishable body, then (nearly always) one thing broken in it: each body carried out costs a model
 * load in the consumer (~0.2 s), so only a few dozen are. */
const publishBody: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc
      .record({
        version: versionName,
        metrics: rarely(fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), junkValue, { maxKeys: 4 }), wrongValue), 3),
        model: fc.oneof(
          { weight: 8, arbitrary: fc.constant({ modelJson: TINY.modelJson as unknown, weightsBase64: TINY_WEIGHTS }) },
          { weight: 1, arbitrary: fc.base64String({ minLength: 4, maxLength: 64 }).map((weightsBase64) => ({ modelJson: TINY.modelJson as unknown, weightsBase64 })) },
          {
            weight: 1,
            arbitrary: fc.record({
              modelJson: fc.record({ modelTopology: fc.oneof(fc.constant({}), fc.dictionary(fc.string({ maxLength: 8 }), junkValue, { maxKeys: 3 })), weightsManifest: fc.array(junkValue, { minLength: 1, maxLength: 3 }), format: junkValue }, { requiredKeys: ['modelTopology', 'weightsManifest'] }),
              weightsBase64: fc.base64String({ minLength: 4, maxLength: 64 }),
            }),
          },
        ),
        broken: fc.oneof(
          { weight: 1, arbitrary: fc.constant(undefined) },
          {
            weight: 48,
            arbitrary: fc.oneof(
              fc.tuple(fc.constantFrom('version', 'metrics', 'modelJson', 'weightsBase64', 'extra', '__proto__'), wrongValue),
              fc.tuple(fc.constant('modelJson'), fc.oneof(fc.constantFrom<unknown>({}, { modelTopology: {} }, { weightsManifest: [{}] }, { modelTopology: [], weightsManifest: [{}] }, { modelTopology: {}, weightsManifest: [] }, { modelTopology: {}, weightsManifest: {} }), wrongValue)),
              fc.tuple(fc.constant('weightsBase64'), fc.constantFrom<unknown>('', 'AAA', 'AAAAA', 'AAAA=', 'AA=A', '====', '!!!!', 'AAAA\n', 'AA==AA==', 'AAA-', 'AAA_')),
              fc.tuple(fc.constantFrom('version', 'modelJson', 'weightsBase64'), fc.constant(Symbol.for('missing'))),
            ),
          },
        ),
      })
      .map(({ broken, model, ...body }) => {
        const out: Record<string, unknown> = { ...body, ...model };
        if (out.metrics === undefined) delete out.metrics;
        if (broken) {
          if (broken[1] === Symbol.for('missing')) delete out[broken[0]];
          else Object.defineProperty(out, broken[0], { value: broken[1], enumerable: true, configurable: true });
        }
        return toJsonText(out);
      }),
  },
  { weight: 1, arbitrary: wrongValue.map((value) => toJsonText(value)) },
  { weight: 2, arbitrary: rawBody },
);


/** The publishing contract, judged without the server's code: {version, modelJson, weightsBase64,
 * metrics?} with a version name of 1..100 of [A-Za-z0-9._-] (not starting with . _ -), and the one model
 * this fuzz publishes whole (test/helpers/tiny-model.ts): any other model.json, or other weights, the
 * registry's limits refuse (test/model/model-limits.test.ts says which and why). */
function publishable(body: FuzzRequest['body']): boolean {
  const parsed = parseBody(body);
  if (!parsed.ok || !isPlainObject(parsed.value)) return false;
  const { version, metrics, modelJson, weightsBase64, ...rest } = parsed.value;
  if (Object.keys(rest).length > 0) return false;
  if (typeof version !== 'string' || !VERSION.test(version)) return false;
  if (metrics !== undefined && !isPlainObject(metrics)) return false;
  return Bun.deepEquals(modelJson, TINY.modelJson) && weightsBase64 === TINY_WEIGHTS;
}

const firstChecks = (request: AdminCase) => !request.site.crossSite && request.contentType.json && byteLength(request.body) <= BODY_LIMIT;

function judgePublish(request: AdminCase, answer: Answer): void {
  const ok = request.authorized && firstChecks(request) && publishable(request.body);
  // A version published before (by an earlier case) is refused, rightly.
  expectVerdict(request, answer, ok, (a) => ok && a.status === 409 && errorCode(a) === 'version_exists');
  if (answer.status === 201 && !/"state":"(serving|loading|refused|stored)"/.test(answer.text)) throw new Error(`a 201 without a state for ${describeRequest(request)}`);
}

function adminCases(path: fc.Arbitrary<string>, body: fc.Arbitrary<Body>, authorization: fc.Arbitrary<{ header: string | undefined; right: boolean }>, origin: string): fc.Arbitrary<AdminCase> {
  return fc
    .record({ path, body, contentType, site: siteHeaders(origin), authorization })
    .map(({ path, body, contentType, site, authorization }) =>
      printable({ method: 'POST', path, headers: postHeaders({ contentType, site, authorization: authorization.header }), body, contentType, site, authorized: authorization.right }, describeRequest),
    );
}

const rightToken = fc.constant({ header: `Bearer ${TOKEN}` as string | undefined, right: true });

/** Authorization headers that are not the token, and a few that are. fetch trims the value's ends. */
const anyToken = fc.oneof(
  { weight: 1, arbitrary: rightToken },
  { weight: 1, arbitrary: fc.constantFrom(`Bearer ${TOKEN} `, ` Bearer ${TOKEN}`).map((header) => ({ header: header as string | undefined, right: true })) },
  {
    weight: 6,
    arbitrary: fc
      .constantFrom<string | undefined>(undefined, '', 'Bearer', 'Bearer ', `bearer ${TOKEN}`, `BEARER ${TOKEN}`, `Bearer  ${TOKEN}`, TOKEN, `Basic ${btoa(`admin:${TOKEN}`)}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN},Bearer ${TOKEN}`, `Bearer ${'x'.repeat(8000)}`, 'Bearer é', 'Bearer \u00ff\u00fe')
      .map((header) => ({ header, right: false })),
  },
  { weight: 2, arbitrary: fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 }).map((t) => ({ header: `Bearer ${t}` as string | undefined, right: t === TOKEN })) },
);

let stratus: Awaited<ReturnType<typeof startLocal>>;
let disabled: Awaited<ReturnType<typeof startLocal>>;
let rssBefore = 0;
const tally = new Tally();

async function storedVersions(): Promise<string[]> {
  const registry = (await (await fetch(`${stratus.url}/api/models`)).json()) as { versions: { version: string }[] };
  return registry.versions.map((v) => v.version);
}

beforeAll(async () => {
  stratus = await startLocal([...NO_RATE_LIMITS], {}, { STRATUS_ADMIN_TOKEN: TOKEN });
  disabled = await startLocal([...NO_RATE_LIMITS]);
  // A few batches first, with another seed: the first requests grow caches and JIT code that stay.
  const publish = adminCases(fc.constant('/api/models'), publishBody, rightToken, stratus.url);
  await fuzzRoutes({ baseUrl: stratus.url, cases: publish, seed: SEED + 1, count: 48, tally: new Tally(), family: () => 'warm-up' });
  rssBefore = await settledRss();
}, 30_000);
afterAll(() => Promise.all([stratus.stop(), disabled.stop()]));

test(`${PUBLISH_CASES} fuzzed publishes with the admin token: each valid model stored (201), a short JSON 4xx for the rest`, async () => {
  const cases = adminCases(fc.constant('/api/models'), publishBody, rightToken, stratus.url);
  // One at a time: of two versions published at once the consumers load only the later, and the earlier
  // answer waits out the 10 s settling (model-state.ts) to say "loading", right but slow.
  await fuzzRoutes({ baseUrl: stratus.url, cases, seed: SEED, count: PUBLISH_CASES, tally, family: () => 'publish', judge: judgePublish, batch: 1 });
  expect(tally.count('publish', '201')).toBeGreaterThan(5);
  expectEveryOutcome(tally, 'publish', ['422 invalid_body', '422 model_refused', '400 malformed_json', '415 unsupported_media_type', '403 cross_site']);
}, 60_000);

test(`${SERVE_CASES} fuzzed serve requests with the admin token: a stored version is served (202), any other name or path a short JSON 4xx`, async () => {
  const stored = await storedVersions();
  const serving = ((await (await fetch(`${stratus.url}/api/models`)).json()) as { serving: string }).serving;
  const published = stored.filter((v) => v !== serving);
  expect(published.length).toBeGreaterThan(0);
  const segment = fc.oneof(
    // Serving the version already served is quick; a published one is a model load (~0.2 s), so rare.
    { weight: 30, arbitrary: fc.constant(serving) },
    { weight: 1, arbitrary: fc.constantFrom(...published) },
    { weight: 30, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/) },
    { weight: 10, arbitrary: fc.nat().map((at) => serving.replace(new RegExp(`(?<=^.{${at % serving.length}})[a-z]`), (c) => `%${c.charCodeAt(0).toString(16)}`)) },
    { weight: 20, arbitrary: fc.constantFrom('%2e%2e', '..%2F..%2Fetc', '%00', '%ff', 'a%2Fb', '%20', 'é', '%C3%A9', '%', '%%', 'x'.repeat(300), `${stored[0]}%00`) },
    { weight: 10, arbitrary: fc.webSegment() },
  );
  const body = fc.oneof({ weight: 6, arbitrary: fc.constant('{}') }, { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) }, { weight: 1, arbitrary: rawBody });
  const cases = adminCases(segment.map((s) => `/api/models/${s}/serve`), body, rightToken, stratus.url);
  const judge = (request: AdminCase, answer: Answer) => {
    const name = /^\/api\/models\/(.*)\/serve$/.exec(request.path)?.[1] ?? '';
    // A percent-encoded name may or may not be decoded to a stored one: either answer is right.
    const served = firstChecks(request) && parseBody(request.body).ok && (stored.includes(name) ? true : name.includes('%') ? 'either' : false);
    expectVerdict(request, answer, served);
  };
  // In batches: several serves of one version at once write the same setting in the store.
  await fuzzRoutes({ baseUrl: stratus.url, cases, seed: SEED, count: SERVE_CASES, tally, family: () => 'serve', judge });
  expect(tally.count('serve', '202')).toBeGreaterThan(5);
  expect(tally.count('serve', '404 unknown_version')).toBeGreaterThan(0);
}, 60_000);

test(`${TOKEN_CASES} fuzzed admin requests without the right token: 401, then 429 once the client has guessed too often; never carried out`, async () => {
  const path = fc.oneof(fc.constant('/api/models'), fc.stringMatching(/^[a-z0-9-]{1,12}$/).map((v) => `/api/models/${v}/serve`));
  const cases = adminCases(path, fc.oneof(publishBody, fc.constant('{}')), anyToken, stratus.url);
  const judge = (request: AdminCase, answer: Answer) => {
    // With the right token the body decides (any answer is checked by checkAnswer); without it, nothing is done.
    if (!request.authorized) expectVerdict(request, answer, false);
  };
  await fuzzRoutes({ baseUrl: stratus.url, cases, seed: SEED, count: TOKEN_CASES, tally, family: () => 'token', judge, batch: TOKEN_BATCH });
  if (process.env.FUZZ_REPORT === '1') console.log(tally.toString());
  expect(tally.count('token', '401 unauthorized')).toBeGreaterThan(0);
  expect(tally.count('token', '429 too_many_failures')).toBeGreaterThan(0);
}, 60_000);

test(`${READ_CASES} fuzzed reads of the registry (any query, any headers): always answered, as JSON or HTML`, async () => {
  const cases = fc
    .record({
      route: fc.constantFrom('/api/models', '/v2/models/mnist', '/v2/models/mnist/ready', '/v2', '/models'),
      query: fc.oneof(fc.constant(''), fc.webQueryParameters().map((q) => `?${q}`), fc.constantFrom('?%00', '?%ff', '?version=../../etc')),
      accept: fc.constantFrom(undefined, 'application/json', 'text/html', '*/*', 'image/png', ''),
      authorization: fc.constantFrom(undefined, `Bearer ${TOKEN}`, 'Bearer wrong'),
    })
    .map(({ route, query, accept, authorization }) =>
      printable({ method: 'GET', path: `${route}${query}`, headers: { ...(accept === undefined ? {} : { accept }), ...(authorization === undefined ? {} : { authorization }) } }, describeRequest),
    );
  await fuzzRoutes({ baseUrl: stratus.url, cases, seed: SEED, count: READ_CASES, tally, family: () => 'reads', judge: (request, answer) => expectVerdict(request, answer, true) });
  expect(tally.count('reads', '200')).toBeGreaterThan(READ_CASES / 2);
}, 60_000);

test(`${DISABLED_CASES} fuzzed admin requests to a server without an admin token: all refused, with a short JSON 4xx`, async () => {
  const path = fc.oneof(fc.constant('/api/models'), fc.stringMatching(/^[a-z0-9-]{1,12}$/).map((v) => `/api/models/${v}/serve`));
  const cases = adminCases(path, fc.oneof(publishBody, fc.constant('{}')), anyToken, disabled.url);
  await fuzzRoutes({ baseUrl: disabled.url, cases, seed: SEED, count: DISABLED_CASES, tally, family: () => 'disabled', judge: (request, answer) => expectVerdict(request, answer, false) });
  expect(tally.count('disabled', '403 admin_disabled')).toBeGreaterThan(DISABLED_CASES / 4);
}, 60_000);

test('afterwards the process answers, and its memory has settled back', async () => {
  await expectAlive(stratus.url);
  await expectAlive(disabled.url);
  await expectSettledMemory(rssBefore);
}, 30_000);
