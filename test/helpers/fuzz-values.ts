// Generators the fuzz suites share: values of the wrong type for any field, JSON text no serializer would
// write, drawings (right and subtly wrong), raw bytes, content types and same-origin headers, each with an
// independent verdict where the server's answer depends on it.
import fc from 'fast-check';
import type { Body } from './fuzz-http.ts';

/** Nesting depth of generated JSON: far past the server's cap (SHALLOW_JSON), to where a body once made
 * Elysia's validation error pretty-print it in O(depth²) bytes and overflow the stack (60 KB of text). */
export const MAX_NESTING = 30_000;

/** JSON text put as-is into a generated body: what JSON.stringify cannot produce. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON.stringify, with RawJson values written verbatim (the result may well not be JSON). */
export function toJsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => (v instanceof RawJson ? `\u0000raw${raws.push(v.text) - 1}\u0000` : v));
  if (text === undefined) return '';
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_, i: string) => raws[Number(i)] as string);
}

/** A body as the server reads it: UTF-8 decoded (which drops a leading byte-order mark), JSON, nested at
 * most SHALLOW_JSON deep, and without a key that hides how a value becomes text (RESERVED_KEYS); not ok
 * when it is anything else, which every route refuses. */
export function parseBody(body: Body | undefined): { ok: true; value: unknown } | { ok: false } {
  const text = body === undefined ? '' : typeof body === 'string' ? body : new TextDecoder().decode(body);
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return { ok: false };
  }
  return jsonDepth(value) <= SHALLOW_JSON && !hasReservedKey(value) ? { ok: true, value } : { ok: false };
}

/** Keys no body may have: an object with its own non-function toString cannot be written into a message. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['toString', 'valueOf', 'toLocaleString']);

function hasReservedKey(value: unknown): boolean {
  const pending: unknown[] = [value];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    if (typeof item !== 'object' || item === null) continue;
    if (!Array.isArray(item) && Object.keys(item).some((key) => RESERVED_KEYS.has(key))) return true;
    for (const child of Object.values(item)) if (typeof child === 'object' && child !== null) pending.push(child);
  }
  return false;
}

/** Nesting of arrays and objects in `value` (parsed JSON): 0 for a scalar. Without recursion: values here
 * nest up to MAX_NESTING deep. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (typeof item !== 'object' || item === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/** The deepest body the server takes (no route's body is more than a few levels deep); deeper is a 400. */
export const SHALLOW_JSON = 64;

/** Values that fit nearly no field: wrong types, edge numbers, NaN spelled as a string, odd unicode. */
export const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null, true, false, 0, -1, 1.5, 2, 1e308, -1e308, 5e-324, 2 ** 53, '', '0.5', 'NaN', 'Infinity', 'null', '\u0000', '\u202e',
    '💥', 'e\u0301', '\ud800', [], {}, [[]], [{}], { x: 1 }, { constructor: { prototype: {} } },
  ),
  fc.double(),
  fc.integer(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Numbers as only raw JSON text can spell them, valid JSON or not. */
export const rawNumber: fc.Arbitrary<RawJson> = fc
  .constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '-1e999', '1e-999', '0.1e-400', '-0', '0x1', '01', '.5', '5.', '+1', '1_0',
    '123456789012345678901234567890', '1.00000000000000000001', 'undefined', 'null', '"0.5"')
  .map((text) => new RawJson(text));

/** Arrays or objects nested up to MAX_NESTING deep, closed or not; half of them within the server's cap,
 * where the routes' own checks see them. */
export const nestedJson: fc.Arbitrary<RawJson> = fc
  .record({ depth: fc.oneof(fc.integer({ min: 1, max: SHALLOW_JSON }), fc.integer({ min: SHALLOW_JSON + 1, max: MAX_NESTING })), kind: fc.constantFrom('array', 'object', 'mixed'), closed: fc.boolean() })
  .map(({ depth, kind, closed }) => {
    const open = kind === 'array' ? '[' : kind === 'object' ? '{"a":' : '[{"a":';
    const shut = kind === 'array' ? ']' : kind === 'object' ? '}' : '}]';
    const inner = kind === 'array' ? '' : '0';
    return new RawJson(open.repeat(depth) + inner + (closed ? shut.repeat(depth) : ''));
  });

/** Anything a field might be sent instead of what it should be. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof({ weight: 6, arbitrary: junkValue }, { weight: 1, arbitrary: rawNumber }, { weight: 1, arbitrary: nestedJson });

/** Bodies that are no JSON document of any shape: random bytes, text, JSON cut short or misspelt. */
export const rawBody: fc.Arbitrary<Body> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'binary-ascii', maxLength: 300 }),
  fc.constantFrom('', ' ', '\uFEFF', '{', '}', '{"', '[1,]', '{"a":1,}', "{'a':1}", '{a:1}', '{"a":1} x', '/* */{}', '\u0000{}', '{"a":"\\x"}',
    '{"a":"\\ud800"}', '"\u0000"', 'nul', 'tru', '{"pixels":[0.5' ),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  nestedJson.map((raw) => raw.text),
);

// Drawings. The contract (src/preprocess/drawing.ts): width and height in (0, 4096], lineWidth absent or
// the same, 1..64 strokes of at least one point, at most 8,192 points, every point {x, y} finite and within
// 8,192 of the origin. Extra keys are ignored.
const MAX_SIDE = 4096;
const MAX_COORDINATE = 2 * MAX_SIDE;
const MAX_POINTS = 8192;

const validSide = fc.oneof(
  { weight: 12, arbitrary: fc.double({ min: 1, max: 1200, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(5e-324, 1e-9, 0.5, MAX_SIDE) },
);
const validCoordinate = fc.oneof(
  { weight: 30, arbitrary: fc.double({ min: -40, max: 1300, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(MAX_COORDINATE, -MAX_COORDINATE, -0, 5e-324) },
);
const validPoint = fc.record({ x: validCoordinate, y: validCoordinate });
const validStroke = fc.oneof(
  { weight: 20, arbitrary: fc.array(validPoint, { minLength: 1, maxLength: 40 }) },
  // A straight trace of many points, as a slow pen leaves: the way to the 8,192-point limit.
  { weight: 1, arbitrary: fc.record({ n: fc.integer({ min: 100, max: MAX_POINTS }), x: fc.double({ min: 0, max: 500, noNaN: true }) }).map(({ n, x }) => Array.from({ length: n }, (_, i) => ({ x, y: Math.round((i * 1800) / n) / 10 }))) },
);
const validStrokes = fc.oneof(
  { weight: 30, arbitrary: fc.array(validStroke, { minLength: 1, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 }).map((n) => Array.from({ length: n }, (_, i) => [{ x: 5 * i, y: 50 }, { x: 5 * i, y: 150 }])) },
);

type Mutable = Record<string, unknown> & { strokes: unknown[][] };

/** One thing broken in a valid drawing, or (the same) nothing broken but an extra key. */
const drawingMutation: fc.Arbitrary<(d: Mutable) => unknown> = fc.oneof(
  fc.tuple(fc.constantFrom('width', 'height', 'lineWidth'), fc.oneof(fc.constantFrom<unknown>(0, -0.5, -1, MAX_SIDE + 1e-9, 4097, 1e9, '500', null), wrongValue)).map(([key, value]) => (d: Mutable) => ({ ...d, [key]: value })),
  fc.constantFrom('width', 'height', 'strokes').map((key) => (d: Mutable) => { const { [key]: _, ...rest } = d; return rest; }),
  fc.oneof(fc.constant<unknown>([]), wrongValue).map((strokes) => (d: Mutable) => ({ ...d, strokes })),
  fc.constant((d: Mutable) => ({ ...d, strokes: [...d.strokes, []] })),
  fc.constant((d: Mutable) => ({ ...d, strokes: Array.from({ length: 65 }, (_, i) => [{ x: i, y: 1 }]) })),
  fc.constant((d: Mutable) => ({ ...d, strokes: [...d.strokes, Array.from({ length: MAX_POINTS + 1 - d.strokes.flat().length }, (_, i) => ({ x: 1, y: i % 200 }))] })),
  fc.tuple(fc.nat(), fc.oneof(wrongValue, fc.tuple(validCoordinate, validCoordinate), validCoordinate.map((x) => ({ x })))).map(([at, point]) => (d: Mutable) => {
    const strokes = d.strokes.map((s) => [...s]);
    const stroke = strokes[at % strokes.length] as unknown[];
    stroke[at % stroke.length] = point;
    return { ...d, strokes };
  }),
  fc.tuple(fc.nat(), fc.constantFrom('x', 'y'), fc.oneof(fc.constantFrom<unknown>(MAX_COORDINATE + 0.5, -MAX_COORDINATE - 0.5, 1e9, -1e300), wrongValue)).map(([at, axis, value]) => (d: Mutable) => {
    const strokes = d.strokes.map((s) => [...s]);
    const stroke = strokes[at % strokes.length] as Record<string, unknown>[];
    stroke[at % stroke.length] = { ...stroke[at % stroke.length], [axis]: value };
    return { ...d, strokes };
  }),
  wrongValue.map((value) => () => value),
  fc.tuple(fc.string({ maxLength: 10 }), junkValue).map(([key, value]) => (d: Mutable) => (key in d ? d : { ...d, [key]: value })),
);

/** A drawing: valid about half the time, else with one thing broken. */
export const drawing: fc.Arbitrary<unknown> = fc
  .tuple(
    fc.record({ width: validSide, height: validSide, lineWidth: validSide, strokes: validStrokes }, { requiredKeys: ['width', 'height', 'strokes'] }),
    rarely(drawingMutation, 2),
  )
  .map(([valid, mutate]) => (mutate ? mutate(valid as Mutable) : valid));

const isFiniteIn = (value: unknown, low: number, high: number, lowOpen: boolean): boolean =>
  typeof value === 'number' && Number.isFinite(value) && (lowOpen ? value > low : value >= low) && value <= high;

/** Whether `value` (parsed JSON) is a drawing the contract takes. */
export function isDrawing(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const d = value as Record<string, unknown>;
  const sideOk = (v: unknown) => isFiniteIn(v, 0, MAX_SIDE, true);
  if (!sideOk(d.width) || !sideOk(d.height) || (d.lineWidth !== undefined && !sideOk(d.lineWidth))) return false;
  if (!Array.isArray(d.strokes) || d.strokes.length < 1 || d.strokes.length > 64) return false;
  let points = 0;
  for (const s of d.strokes) {
    if (!Array.isArray(s) || s.length === 0) return false;
    points += s.length;
    for (const p of s) {
      if (typeof p !== 'object' || p === null || Array.isArray(p)) return false;
      const { x, y } = p as Record<string, unknown>;
      if (!isFiniteIn(x, -MAX_COORDINATE, MAX_COORDINATE, false) || !isFiniteIn(y, -MAX_COORDINATE, MAX_COORDINATE, false)) return false;
    }
  }
  return points <= 8192;
}

/** A content-type header (or none) and whether it names JSON, the one type the app takes. */
export interface ContentType {
  readonly value: string | undefined;
  readonly json: boolean;
}

export const contentType: fc.Arbitrary<ContentType> = fc.oneof(
  { weight: 24, arbitrary: fc.constant({ value: 'application/json', json: true }) },
  { weight: 2, arbitrary: fc.mixedCase(fc.constant('application/json')).map((value) => ({ value, json: true })) },
  {
    weight: 4,
    arbitrary: fc.constantFrom<ContentType>(
      { value: 'application/json; charset=utf-8', json: true },
      { value: 'application/json;charset=UTF-16', json: true },
      { value: 'application/json ; q=1', json: true },
      { value: 'application/json;', json: true },
      { value: undefined, json: false },
      { value: 'text/plain', json: false },
      { value: 'application/x-www-form-urlencoded', json: false },
      { value: 'multipart/form-data; boundary=x', json: false },
      { value: 'application/jsonp', json: false },
      { value: 'application/json-seq', json: false },
      { value: 'application/ld+json', json: false },
      { value: 'text/json', json: false },
      { value: 'application', json: false },
      { value: 'json', json: false },
      { value: '*/*', json: false },
    ),
  },
);

/** Headers a browser (or a forger) sets on a state-changing request, and whether they say "another site". */
export interface SiteHeaders {
  readonly headers: Record<string, string>;
  readonly crossSite: boolean;
}

/** Same-origin means `origin` (the server's, e.g. http://127.0.0.1:4321); a header-less client is let through. */
export function siteHeaders(origin: string): fc.Arbitrary<SiteHeaders> {
  return fc.oneof(
    { weight: 20, arbitrary: fc.constant({ headers: {}, crossSite: false }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom<SiteHeaders>(
        { headers: { 'sec-fetch-site': 'same-origin' }, crossSite: false },
        { headers: { 'sec-fetch-site': 'none' }, crossSite: false },
        { headers: { origin }, crossSite: false },
        { headers: { 'sec-fetch-site': 'same-origin', origin: 'https://evil.example' }, crossSite: false },
        { headers: { 'sec-fetch-site': 'same-site' }, crossSite: true },
        { headers: { 'sec-fetch-site': 'cross-site' }, crossSite: true },
        { headers: { 'sec-fetch-site': 'cross-site', origin }, crossSite: true },
        { headers: { origin: 'https://evil.example' }, crossSite: true },
        { headers: { origin: origin.replace(/:\d+$/, ':1') }, crossSite: true },
        { headers: { origin: 'null' }, crossSite: true },
        { headers: { origin: 'not a url' }, crossSite: true },
      ),
    },
  );
}

/** An Idempotency-Key header value (or none) and whether it is one: 1 to 255 visible ASCII characters. */
export const idempotencyKey: fc.Arbitrary<{ value: string | undefined; valid: boolean }> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ value: undefined, valid: true }) },
  { weight: 3, arbitrary: fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 255 }).map((value) => ({ value, valid: true })) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', '-', '~'), minLength: 256, maxLength: 400 }).map((value) => ({ value, valid: false })) },
  { weight: 1, arbitrary: fc.constantFrom('a b', 'a\tb', 'clé', 'key\u00a0', 'x\u007fy').map((value) => ({ value, valid: false })) },
);

/** A Cookie header: none, junk, or some session cookie (valid or not) among others. */
export const cookieHeader: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('stratus_session=', 'stratus_session=short', 'stratus_session=' + 'a'.repeat(65), 'stratus_session=../../etc', '; ;=;', 'stratus_session=00000000-0000-0000-0000-000000000000') },
);

/** The headers of a generated POST, from its generated parts. */
export function postHeaders(parts: { contentType: ContentType; site: SiteHeaders; idempotencyKey?: string | undefined; cookie?: string | undefined; authorization?: string | undefined }): Record<string, string> {
  return {
    ...(parts.contentType.value === undefined ? {} : { 'content-type': parts.contentType.value }),
    ...parts.site.headers,
    ...(parts.idempotencyKey === undefined ? {} : { 'idempotency-key': parts.idempotencyKey }),
    ...(parts.cookie === undefined ? {} : { cookie: parts.cookie }),
    ...(parts.authorization === undefined ? {} : { authorization: parts.authorization }),
  };
}

/** `arbitrary`'s value one time in `oneIn`, undefined otherwise (fc.option's freq is the other way round). */
export function rarely<T>(arbitrary: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
}
