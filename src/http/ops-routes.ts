// Probes and metrics, served by every role on --port so Kubernetes can check and scrape each pod.
import { Elysia, t } from 'elysia';
import type { Metrics } from '../metrics.ts';

export interface Readiness {
  /** Empty when ready; otherwise what is missing, for the operator reading the probe's answer. */
  notReadyReasons(): string[];
}

const Live = t.Object({ live: t.Boolean() });
const Ready = t.Object({ ready: t.Boolean(), reasons: t.Optional(t.Array(t.String(), { description: 'what is missing, when not ready' })) });

export function opsRoutes(readiness: Readiness, metrics: Metrics) {
  return new Elysia({ name: 'stratus-ops' })
    .get('/v2/health/live', () => ({ live: true }), { response: Live, detail: { summary: 'Liveness probe: the process answers', tags: ['health'] } })
    .get(
      '/v2/health/ready',
      ({ set }) => {
        const reasons = readiness.notReadyReasons();
        if (reasons.length > 0) set.status = 503;
        return { ready: reasons.length === 0, ...(reasons.length > 0 ? { reasons } : {}) };
      },
      { response: { 200: Ready, 503: Ready }, detail: { summary: 'Readiness probe: model loaded, transport and store up (503 with the reasons otherwise)', tags: ['health'] } },
    )
    .get(
      '/metrics',
      async () =>
        new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } }),
      { response: t.String({ description: 'the Prometheus text format' }), detail: { summary: 'Prometheus metrics', tags: ['health'] } },
    );
}
