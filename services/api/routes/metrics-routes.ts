import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics/metrics.ts';

/**
 * `GET /metrics` (Prometheus text format) and the latency histogram of every request. Unauthenticated, as
 * Prometheus scrapes from inside the cluster without API keys; METRICS_ENABLED=false leaves both out.
 * Registered before the other routes so that its hook sees them all, the 404 handler included.
 */
export function registerMetricsRoutes(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: ids in label values would make one series per report.
    // The dashboard's catch-all serves page loads only; anything else it answers is a miss, as for no route.
    const matched = request.routeOptions.url;
    const route = matched === undefined || (matched === '/*' && reply.statusCode === 404) ? 'unmatched' : matched;
    metrics.httpRequestDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
