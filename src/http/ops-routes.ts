// Probes and metrics, served by every role on --port so Kubernetes can check and scrape each pod.
import { Elysia } from 'elysia';
import type { Metrics } from '../metrics.ts';

export interface Readiness {
  /** Empty when ready; otherwise what is missing, for the operator reading the probe's answer. */
  notReadyReasons(): string[];
}

export function opsRoutes(readiness: Readiness, metrics: Metrics) {
  return new Elysia({ name: 'stratus-ops' })
    .get('/v2/health/live', () => ({ live: true }), { detail: { summary: 'Liveness probe', tags: ['health'] } })
    .get(
      '/v2/health/ready',
      ({ set }) => {
        const reasons = readiness.notReadyReasons();
        if (reasons.length > 0) set.status = 503;
        return { ready: reasons.length === 0, ...(reasons.length > 0 ? { reasons } : {}) };
      },
      { detail: { summary: 'Readiness probe: model loaded, transport and store up', tags: ['health'] } },
    )
    .get(
      '/metrics',
      async () =>
        new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } }),
      { detail: { summary: 'Prometheus metrics', tags: ['health'] } },
    );
}
