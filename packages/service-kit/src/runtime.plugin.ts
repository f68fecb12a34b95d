import fastifyPlugin from 'fastify-plugin';
import { HttpProblem } from './problem.ts';
import type { RuntimeBase } from './runtime.ts';

/**
 * The running service on the instance (`app.runtime`), for the kit's routes and any route that needs its
 * logger or metrics. While shutting down, new requests get 503 (health checks still answer), so a load
 * balancer stops sending traffic before anything else stops; every answer is timed in the metrics.
 */
export const runtimePlugin = fastifyPlugin<{ runtime: RuntimeBase; isShuttingDown: () => boolean }>(
  async (app, { runtime, isShuttingDown }) => {
    app.decorate('runtime', runtime);
    app.decorate('isShuttingDown', isShuttingDown);
    app.addHook('onRequest', async (request, reply) => {
      if (isShuttingDown() && !request.url.startsWith('/health/')) {
        reply.header('connection', 'close');
        throw new HttpProblem(
          503,
          'shutting-down',
          'Service unavailable',
          'the service is shutting down; retry shortly',
        );
      }
    });
    app.addHook('onResponse', async (request, reply) => {
      runtime.metrics.httpDuration.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    });
  },
  { name: 'citydeals-runtime', fastify: '5.x' },
);

declare module 'fastify' {
  interface FastifyInstance {
    /** The running service: set by runtimePlugin (services built with createService). */
    runtime: RuntimeBase;
    /** True once shutdown began: readiness is red and new requests get 503. */
    isShuttingDown(): boolean;
  }
}
