// Probes and metrics, served by every role so Kubernetes can check and scrape each pod. Two plugins, as
// they may be served on two ports: the probes on --port (the kubelet's), /metrics on --admin-port when
// one is given (the port Prometheus alone may reach, and the Ingress never routes), else on --port too.
import { Elysia, t } from 'elysia';
import type { Metrics } from '../metrics.ts';

export interface Readiness {
  /** Empty when ready; otherwise what is missing, for the operator reading the probe's answer. */
  notReadyReasons(): string[];
}

const Live = t.Object({ live: t.Boolean() });
const Ready = t.Object({ ready: t.Boolean(), reasons: t.Optional(t.Array(t.String(), { description: 'what is missing, when not ready' })) });

export function healthRoutes(readiness: Readiness) {
  return new Elysia({ name: 'stratus-health' })
    .get('/v2/health/live', () => ({ live: true }), { response: Live, detail: { summary: 'Liveness probe: the process answers', tags: ['health'] } })
    .get(
      '/v2/health/ready',
      ({ set }) => {
        const reasons = readiness.notReadyReasons();
        if (reasons.length > 0) set.status = 503;
        return { ready: reasons.length === 0, ...(reasons.length > 0 ? { reasons } : {}) };
      },
      { response: { 200: Ready, 503: Ready }, detail: { summary: 'Readiness probe: model loaded, transport and store up (503 with the reasons otherwise)', tags: ['health'] } },
    );
}

export function metricsRoutes(metrics: Metrics) {
  return new Elysia({ name: 'stratus-metrics' }).get(
    '/metrics',
    async () => new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } }),
    { response: t.String({ description: 'the Prometheus text format' }), detail: { summary: 'Prometheus metrics', tags: ['health'] } },
  );
}
