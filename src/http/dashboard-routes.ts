// The model dashboard: GET /models (HTML) and its script and stylesheet. Read-only: promoting or rolling
// back goes through the admin API (POST /api/models/:version/serve), which checks the admin token. The
// page is an admin tool: with --admin-port it is served there, beside the endpoints its buttons call
// (app.ts). Its stylesheet also dresses /docs, so the assets are a plugin of their own, served on both.
import { Elysia } from 'elysia';
import type { ModelVersion } from '../adapters/store/store.ts';
import { DASHBOARD_CSS, DASHBOARD_JS } from '../views/dashboard-assets.ts';
import { dashboardPage } from '../views/dashboard-page.ts';
import { DASHBOARD_URL } from '../views/links.ts';
import { stateOf, type StateSource } from './model-state.ts';

/** What the dashboard reads; src/model/model-registry.ts's ModelRegistry is one. */
export interface DashboardRegistry {
  /** Newest first. */
  list(): Promise<ModelVersion[]>;
  /** The version consumers were told to serve, or null. */
  selected(): Promise<string | null>;
}

export interface DashboardSource {
  readonly registry: DashboardRegistry;
  /** What the consumers say they serve and refused (the gateway hears it). */
  readonly gateway: StateSource;
  /** The drawing page is on this port too (no --admin-port). */
  readonly pageLink: boolean;
}

/** Same-origin script, style and fetch only; the charts are inline SVG, which needs none of them. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const hidden = { detail: { hide: true } };

export function dashboardRoutes(source: DashboardSource) {
  return new Elysia({ name: 'stratus-dashboard' })
    .get(
      DASHBOARD_URL,
      async () => {
        const [models, selected] = await Promise.all([source.registry.list(), source.registry.selected()]);
        const html = dashboardPage({
          models: models.map((model) => ({ ...model, ...stateOf(model.version, selected, source.gateway) })),
          selected,
          serving: source.gateway.modelVersion,
          pageLink: source.pageLink,
        });
        return new Response(html, {
          headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': DASHBOARD_CSP, 'cache-control': 'no-store' },
        });
      },
      hidden,
    )
    .use(dashboardAssets());
}

/** The dashboard's script and stylesheet (the latter also /docs's): static, the same for everyone. */
export function dashboardAssets() {
  return new Elysia({ name: 'stratus-dashboard-assets' })
    .get('/assets/dashboard.js', () => new Response(DASHBOARD_JS, { headers: { 'content-type': 'text/javascript; charset=utf-8' } }), hidden)
    .get('/assets/dashboard.css', () => new Response(DASHBOARD_CSS, { headers: { 'content-type': 'text/css; charset=utf-8' } }), hidden);
}
