import type { HttpServer, Metrics } from '@citydeals/service-kit';
import type pg from 'pg';

/**
 * Liveness, readiness (Postgres answers, not shutting down) and metrics, as on the other services. The
 * services the console calls are not part of readiness: one of them down must not take the console away.
 */
export function healthRoutes(
  app: HttpServer,
  { pool, metrics, isShuttingDown }: { pool: pg.Pool; metrics: Metrics; isShuttingDown: () => boolean },
) {
  app.get('/health/live', { schema: { tags: ['operations'], summary: 'The process is up' } }, async () => ({
    status: 'ok',
  }));
  app.get(
    '/health/ready',
    { schema: { tags: ['operations'], summary: 'Postgres answers; 503 otherwise' } },
    async (_request, reply) => {
      const checks: Record<string, string> = {};
      checks.postgres = await pool
        .query('select 1')
        .then(() => 'ok')
        .catch((err: Error) => `failing: ${err.message}`);
      if (isShuttingDown()) checks.shutdown = 'shutting down';
      const ready = Object.values(checks).every((c) => c === 'ok');
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );
  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics' } },
    async (_r, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
}
