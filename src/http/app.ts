// src/http/ is the HTTP face of a process, on Elysia: this app, the API, page and dashboard routes,
// probes and metrics. It talks to the gateway through the Gateway interface (gateway.ts) and renders
// with views/; only here do errors become HTTP statuses (errors.ts).
//
// The process's one HTTP server: probes and metrics always; the page, the API and /docs when this
// process runs the gateway. Also where every error becomes a short JSON answer with the right status.
import { Elysia } from 'elysia';
import type { Store } from '../adapters/store/store.ts';
import { htmxJs } from '../embedded/assets.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { apiReferencePage } from '../views/api-reference.ts';
import { apiRoutes } from './api-routes.ts';
import { apiSpec, type ApiSpec } from './api-spec.ts';
import { modelRoutes, type ModelRoutesOptions } from './model-routes.ts';
import { dashboardRoutes } from './dashboard-routes.ts';
import { readJsonBody } from './body.ts';
import { HttpError, errorResponse, fromActorError } from './errors.ts';
import type { Gateway } from './gateway.ts';
import { opsRoutes, type Readiness } from './ops-routes.ts';
import { bodyLimit, pageRoutes } from './page-routes.ts';
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
}

const hidden = { detail: { hide: true } };

export function createApp(options: AppOptions) {
  const { metrics, logger } = options;
  const fail = (error: HttpError) => {
    metrics.errors.inc({ status: String(error.status), code: error.code });
    return errorResponse(error);
  };

  const app = new Elysia({ normalize: false })
    // Every answer carries the security headers (a route may set its own CSP); a cross-site request that
    // would change state is refused before anything else looks at it (security.ts).
    .onRequest(({ request, set }) => {
      Object.assign(set.headers, SECURITY_HEADERS);
      if (isCrossSite(request)) return fail(crossSiteError());
    })
    // Checked before the body is read: a wrong type or an oversized body costs nothing to refuse.
    .onRequest(({ request }) => {
      if (request.method !== 'POST') return;
      const type = request.headers.get('content-type') ?? '';
      if (!/^application\/json\s*(;|$)/i.test(type)) {
        return fail(new HttpError(415, 'unsupported_media_type', 'send the body as application/json'));
      }
      const length = Number(request.headers.get('content-length') ?? '0');
      const limit = bodyLimit(new URL(request.url).pathname, options.maxBodyBytes);
      if (length > limit) return fail(new HttpError(413, 'body_too_large', `body exceeds ${limit} bytes`));
    })
    // Every body is JSON (415 above otherwise), read within its route's limit (page-routes.ts) even when it
    // comes in chunks with no declared length.
    .onParse(({ request, path }) => readJsonBody(request, bodyLimit(path, options.maxBodyBytes)))
    .onError(({ code, error, request }) => {
      if (error instanceof HttpError) return fail(error);
      const refusal = fromActorError(error);
      if (refusal) return fail(refusal);
      // A route's own parser (page-routes.ts) refuses with an HttpError; Elysia hands it over wrapped.
      const cause = (error as { cause?: unknown }).cause;
      if (code === 'PARSE' && cause instanceof HttpError) return fail(cause);
      switch (code) {
        case 'PARSE':
          return fail(new HttpError(400, 'malformed_json', 'the body is not valid JSON'));
        case 'VALIDATION':
          return fail(new HttpError(422, 'invalid_body', describeValidation(error)));
        case 'NOT_FOUND': {
          const allowed = methodsOf(new URL(request.url).pathname);
          if (allowed.length > 0) return fail(new HttpError(405, 'method_not_allowed', `${request.method} is not allowed here; use ${allowed.join(' or ')}`, { allow: allowed.join(', ') }));
          return fail(new HttpError(404, 'not_found', 'no such route'));
        }
        default:
          logger.error({ err: error }, 'unhandled error in a request');
          return fail(new HttpError(500, 'internal', 'internal error'));
      }
    })
    .use(opsRoutes(options.readiness, metrics));

  /** The methods some route takes on `path`: a wrong method is a 405 that names them, not a 404. */
  function methodsOf(path: string): string[] {
    const methods = app.routes.filter((route) => route.method !== 'ALL' && routeMatches(route.path, path)).map((route) => route.method);
    return [...new Set(methods)].sort();
  }

  if (!options.gateway) return app;
  const gateway = options.gateway;
  // Made once, when first asked for: by then every route is registered.
  let spec: ApiSpec | null = null;
  const docs = () => (spec ??= apiSpec(app));
  return app
    .get('/docs', () => new Response(apiReferencePage(docs()), { headers: { 'content-type': 'text/html; charset=utf-8' } }), hidden)
    .get('/docs/json', () => docs(), hidden)
    .get('/assets/htmx.min.js', () =>
      new Response(Bun.file(htmxJs), {
        headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' },
      }),
    )
    .use(options.store ? pageRoutes({ gateway, store: options.store }) : new Elysia())
    .use(apiRoutes(gateway))
    .use(options.models ? modelRoutes(gateway, options.models) : new Elysia())
    .use(options.models ? dashboardRoutes({ registry: options.models.registry, gateway }) : new Elysia());
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
