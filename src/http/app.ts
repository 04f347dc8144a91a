// src/http/ is the HTTP face of a process, on Elysia: this app, the API, page and dashboard routes,
// probes and metrics. It talks to the gateway through the Gateway interface (gateway.ts) and renders
// with views/; only here do errors become HTTP statuses (errors.ts).
//
// The process's HTTP servers: probes and metrics always; the page, the API and /docs when this process
// runs the gateway. One app serves them all on --port, or, with --admin-port, two apps share them out
// (Surface below), built from the same route plugins with the same hooks. Also where every error becomes
// a short JSON answer with the right status.
import { Elysia } from 'elysia';
import type { Store } from '../adapters/store/store.ts';
import { htmxJs } from '../embedded/assets.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { apiReferencePage } from '../views/api-reference.ts';
import { PREPROCESS_WORKER } from '../workers.ts';
import { Admission, routeClassOf, type AdmissionOptions } from './admission.ts';
import { apiRoutes } from './api-routes.ts';
import { apiSpec, type ApiSpec } from './api-spec.ts';
import { modelAdminRoutes, modelRoutes, type ModelRoutesOptions } from './model-routes.ts';
import { feedbackRoutes } from './feedback-routes.ts';
import { dashboardAssets, dashboardRoutes } from './dashboard-routes.ts';
import { DrawingPool } from './drawing-pool.ts';
import type { Intake } from './drawn-digits.ts';
import { readJsonBody } from './body.ts';
import { HttpError, errorResponse, fromActorError, isInferenceProtocolPath } from './errors.ts';
import type { Gateway } from './gateway.ts';
import { healthRoutes, metricsRoutes, type Readiness } from './ops-routes.ts';
import { bodyLimit, pageRoutes } from './page-routes.ts';
import { pathOf, requestedPath } from './request-path.ts';
import { SECURITY_HEADERS, crossSiteError, isCrossSite } from './security.ts';

export interface AppOptions {
  readonly readiness: Readiness;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  /** Present when this process runs the gateway. */
  readonly gateway?: Gateway;
  /** Where the page reads the visitor's history and stores feedback; the page is served when given. */
  readonly store?: Store;
  /** The model registry's routes; mounted with the gateway. */
  readonly models?: ModelRoutesOptions;
  /** Rate limits and fair shares of the in-flight requests; none when not given (route tests). */
  readonly admission?: AdmissionOptions;
  /** Where costly drawings are made; on the event loop when not given. */
  readonly drawings?: DrawingPool;
}

const UNLIMITED: AdmissionOptions = Object.freeze({
  rateLimits: Object.freeze({ page: null, api: null, admin: null }),
  maxInFlight: Number.POSITIVE_INFINITY,
  trustedProxies: Object.freeze([]),
});

const hidden = { detail: { hide: true } };
/** How long a 429 waits before it is sent. */
export const REFUSAL_PAUSE_MS = 250;

/**
 * Which routes an app serves. `all`: every route, on one port (no --admin-port: the local demo, tests).
 * With --admin-port they are shared between two apps, each route on exactly one: `public`, the port the
 * Ingress routes (probes, the page and its assets, the prediction API, the registry's reads, /docs), and
 * `admin`, a port only Prometheus and operators reach (/metrics, publish and serve, the model dashboard
 * whose buttons call them). Each answers the other's paths as any unknown path: 404, or 405 where the
 * path takes another method there (POST /api/models on the public port, whose GET is public). /docs is
 * on both, each documenting the routes of its own port. With --metrics-port too, /metrics leaves the admin
 * port for a third, `metrics`, which serves nothing else: what Prometheus must reach, without the admin API.
 */
export type Surface = 'all' | 'public' | 'admin' | 'metrics';

/** Every route on one app: the process serves one port. */
export function createApp(options: AppOptions) {
  return buildApp(options, new Admission(options.admission ?? UNLIMITED, options.metrics), 'all');
}

/** The public port's app and the admin port's, and with `metricsApart` the metrics port's. One Admission
 * for all: rate limits and in-flight slots are the process's, whichever port a request came in on. */
export function createSplitApps(options: AppOptions, metricsApart = false) {
  const admission = new Admission(options.admission ?? UNLIMITED, options.metrics);
  return {
    main: buildApp(options, admission, 'public', metricsApart),
    admin: buildApp(options, admission, 'admin', metricsApart),
    metrics: metricsApart ? buildApp(options, admission, 'metrics', metricsApart) : null,
  };
}

function buildApp(options: AppOptions, admission: Admission, surface: Surface, metricsApart = false) {
  const { metrics, logger } = options;
  const servesPublic = surface === 'all' || surface === 'public';
  const servesAdmin = surface === 'all' || surface === 'admin';
  const servesMetrics = surface === 'metrics' || (servesAdmin && !metricsApart);
  const fail = (request: Request, error: HttpError) => {
    metrics.errors.inc({ status: String(error.status), code: error.code });
    return errorResponse(error, pathOf(request));
  };
  // A client told to slow down (429) hears so only after a pause: one that does not wait before it asks
  // again then gets a refusal per connection per pause, instead of as many as it can send (bench/abuse.ts).
  const refuse = (request: Request, error: HttpError) =>
    error.status === 429 ? Bun.sleep(REFUSAL_PAUSE_MS).then(() => fail(request, error)) : fail(request, error);
  // A refusal sent before the body is read closes the connection: a client sending that body slowly, or
  // never, would otherwise hold the connection until it went idle.
  const unread = (request: Request, error: HttpError) =>
    request.body === null ? error : new HttpError(error.status, error.code, error.message, { ...error.headers, connection: 'close' });

  const app = new Elysia({ normalize: false })
    // Every answer carries the security headers (a route may set its own CSP); a cross-site request that
    // would change state is refused before anything else looks at it (security.ts).
    .onRequest(({ request, set }) => {
      Object.assign(set.headers, SECURITY_HEADERS);
      if (pathOf(request) !== requestedPath(request.url)) {
        return fail(request, unread(request, new HttpError(400, 'bad_host', 'the Host header is missing or too short to route this request')));
      }
      if (isCrossSite(request)) return fail(request, unread(request, crossSiteError()));
    })
    // Before anything is read: a client over its rate costs a map look-up (admission.ts).
    .onRequest(({ request, server }) => {
      const kind = routeClassOf(request.method, pathOf(request));
      if (kind === null) return;
      try {
        admission.limit(kind, admission.clientOf(request, server));
      } catch (error) {
        return refuse(request, unread(request, error as HttpError));
      }
    })
    // Checked before the body is read: a wrong type or an oversized body costs nothing to refuse.
    .onRequest(({ request }) => {
      if (request.method !== 'POST') return;
      const type = request.headers.get('content-type');
      // Open Inference Protocol clients (Triton's) send their JSON with no Content-Type at all; a browser
      // always names one, so a missing type on those routes opens nothing to a form on another site.
      const untypedInference = type === null && isInferenceProtocolPath(pathOf(request));
      if (!untypedInference && !/^application\/json\s*(;|$)/i.test(type ?? '')) {
        return fail(request, unread(request, new HttpError(415, 'unsupported_media_type', 'send the body as application/json')));
      }
      const length = Number(request.headers.get('content-length') ?? '0');
      const limit = bodyLimit(pathOf(request), options.maxBodyBytes);
      if (length > limit) return fail(request, unread(request, new HttpError(413, 'body_too_large', `body exceeds ${limit} bytes`)));
    })
    // Every body is JSON (415 above otherwise), read within its route's limit (page-routes.ts) even when it
    // comes in chunks with no declared length.
    .onParse(({ request, path }) => readJsonBody(request, bodyLimit(path, options.maxBodyBytes)))
    .onError(({ code, error, request }) => {
      if (error instanceof HttpError) return refuse(request, error);
      const refusal = fromActorError(error);
      if (refusal) return fail(request, refusal);
      // A route's own parser (page-routes.ts) refuses with an HttpError; Elysia hands it over wrapped.
      const cause = (error as { cause?: unknown }).cause;
      if (code === 'PARSE' && cause instanceof HttpError) return fail(request, cause);
      switch (code) {
        case 'PARSE':
          return fail(request, new HttpError(400, 'malformed_json', 'the body is not valid JSON'));
        case 'VALIDATION':
          return fail(request, new HttpError(422, 'invalid_body', describeValidation(error)));
        case 'NOT_FOUND': {
          const allowed = methodsOf(pathOf(request));
          if (allowed.length > 0) return fail(request, new HttpError(405, 'method_not_allowed', `${request.method} is not allowed here; use ${allowed.join(' or ')}`, { allow: allowed.join(', ') }));
          return fail(request, new HttpError(404, 'not_found', 'no such route'));
        }
        default:
          logger.error({ err: error }, 'unhandled error in a request');
          return fail(request, new HttpError(500, 'internal', 'internal error'));
      }
    })
    // Probes stay with the public port, where the kubelet checks the port that serves; metrics go with admin.
    .use(servesPublic ? healthRoutes(options.readiness) : new Elysia())
    .use(servesMetrics ? metricsRoutes(metrics) : new Elysia());

  /** The methods some route takes on `path`: a wrong method is a 405 that names them, not a 404. */
  function methodsOf(path: string): string[] {
    const methods = app.routes.filter((route) => route.method !== 'ALL' && routeMatches(route.path, path)).map((route) => route.method);
    return [...new Set(methods)].sort();
  }

  if (!options.gateway || surface === 'metrics') return app;
  const gateway = options.gateway;
  // Made once, when first asked for: by then every route is registered.
  let spec: ApiSpec | null = null;
  const docs = () => (spec ??= apiSpec(app));
  const intake: Intake = { gateway, admission, drawings: options.drawings ?? new DrawingPool(PREPROCESS_WORKER, 0) };
  const models = options.models;
  const htmx = new Elysia({ name: 'stratus-htmx' }).get('/assets/htmx.min.js', () =>
    new Response(Bun.file(htmxJs), {
      headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' },
    }),
  );
  return app
    .get('/docs', () => new Response(apiReferencePage(docs()), { headers: { 'content-type': 'text/html; charset=utf-8' } }), hidden)
    .get('/docs/json', () => docs(), hidden)
    .use(servesPublic ? htmx : new Elysia())
    .use(servesPublic && options.store ? pageRoutes({ intake, store: options.store, operatorLinks: servesAdmin }) : new Elysia())
    .use(servesPublic ? apiRoutes(intake) : new Elysia())
    .use(servesPublic && models ? modelRoutes(gateway, models.registry) : new Elysia())
    .use(servesAdmin && models ? modelAdminRoutes(gateway, models, admission) : new Elysia())
    .use(servesAdmin && models && options.store ? feedbackRoutes({ store: options.store, admin: models.admin, admission }) : new Elysia())
    // The public port keeps the dashboard's stylesheet: /docs wears it.
    .use(models ? (servesAdmin ? dashboardRoutes({ registry: models.registry, gateway, pageLink: servesPublic }) : dashboardAssets()) : new Elysia());
}

/** Whether a route's path (segments, `:param`s, a trailing `*`) takes `path`. */
function routeMatches(route: string, path: string): boolean {
  const want = route.split('/');
  const have = path.split('/');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '*') return true;
    if (have[i] === undefined || (want[i] !== have[i] && !(want[i]!.startsWith(':') && have[i] !== ''))) return false;
  }
  return want.length === have.length;
}

/** The first thing wrong, by path and rule. Never the value: a bad value may be 784 numbers long. */
function describeValidation(error: unknown): string {
  const first = (error as { all?: { path?: string; message?: string; summary?: string }[] }).all?.[0];
  if (!first) return 'the body does not match the schema';
  const path = first.path && first.path !== '' ? first.path : 'body';
  return `${path}: ${first.summary ?? first.message ?? 'invalid'}`;
}
