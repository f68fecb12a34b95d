import { listDeadLetters } from '@citydeals/messaging';
import { z } from 'zod';
import type { ServicePlugin } from './http-server.ts';
import { problems } from './problem.ts';

const deadLetterSchema = z.object({
  id: z.number(),
  consumer: z.string(),
  subject: z.string(),
  streamSequence: z.number().nullable(),
  eventId: z.string().nullable(),
  eventType: z.string().nullable(),
  error: z.string(),
  deliveries: z.number(),
  createdAt: z.string(),
  resolvedAt: z.string().nullable(),
  resolution: z.string().nullable(),
  payload: z.string(),
});

/** Health, metrics and dead-letter administration: the same on every service (needs runtimePlugin). */
export const operationsRoutes: ServicePlugin = async (app) => {
  const { runtime } = app;
  const admin = app.requireScope('admin');

  app.get(
    '/health/live',
    {
      schema: {
        tags: ['operations'],
        summary: 'The process is up',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['operations'],
        summary: 'Postgres and NATS answer; 503 otherwise',
        response: {
          200: z.object({ status: z.enum(['ready', 'not ready']), checks: z.record(z.string(), z.string()) }),
          503: z.object({ status: z.enum(['ready', 'not ready']), checks: z.record(z.string(), z.string()) }),
        },
      },
    },
    async (_request, reply) => {
      const { ok, checks } = await runtime.readiness();
      if (app.isShuttingDown()) checks.shutdown = 'shutting down';
      const ready = ok && !app.isShuttingDown();
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics' } },
    async (_request, reply) => {
      reply.type(runtime.metrics.registry.contentType);
      return runtime.metrics.registry.metrics();
    },
  );

  app.get(
    '/admin/dead-letters',
    {
      onRequest: admin,
      schema: {
        tags: ['operations'],
        summary: 'Events a consumer could not apply',
        security: [{ adminKey: [] }],
        querystring: z.object({
          consumer: z.string().optional(),
          includeResolved: z.stringbool().default(false),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: z.object({ items: z.array(deadLetterSchema) }) },
      },
    },
    async (request) => {
      const rows = await listDeadLetters(runtime.kitDb, request.query);
      return {
        items: rows.map((r) => ({
          id: r.id,
          consumer: r.consumer,
          subject: r.subject,
          streamSequence: r.stream_sequence,
          eventId: r.event_id,
          eventType: r.event_type,
          error: r.error,
          deliveries: r.deliveries,
          createdAt: r.created_at.toISOString(),
          resolvedAt: r.resolved_at?.toISOString() ?? null,
          resolution: r.resolution,
          payload: r.payload,
        })),
      };
    },
  );

  app.post(
    '/admin/dead-letters/:id/retry',
    {
      onRequest: admin,
      schema: {
        tags: ['operations'],
        summary: 'Apply a dead-lettered event again, after fixing its cause',
        security: [{ adminKey: [] }],
        params: z.object({ id: z.coerce.number().int().positive() }),
        response: {
          200: z.object({ status: z.literal('resolved'), outcome: z.string() }),
        },
      },
    },
    async (request) => {
      const result = await runtime.retryDeadLetter(request.params.id);
      switch (result.status) {
        case 'not-found':
          throw problems.notFound(`dead letter ${request.params.id}`);
        case 'resolved':
          return { status: 'resolved' as const, outcome: result.outcome };
        case 'still-failing':
          throw problems.conflict(`the event still fails: ${result.error}`);
        case 'already-resolved':
          throw problems.conflict('this dead letter was already resolved');
        case 'no-consumer':
          throw problems.conflict(`no consumer ${result.consumer} runs in this service`);
      }
    },
  );
};
