import { problemResponses, problems } from '@citydeals/service-kit';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { findMessage, listAttempts, listMessages, requeueMessages } from './delivery.repository.ts';
import { queueTestMessage } from './delivery.service.ts';
import { getEndpoint } from './endpoint.service.ts';
import {
  attemptView,
  endpointIdParams,
  listMessagesQuery,
  messageIdParams,
  messageSchema,
  messageView,
  messageWithAttemptsSchema,
  replayBody,
} from './webhook.schemas.ts';

const tags = ['webhooks'];
const security = [{ adminKey: [] }];

/** Delivery log and recovery: what was sent, how each attempt went, and sending again. */
export const deliveryRoutes: Routes = async (app, { ctx }) => {
  const deps = ctx.webhooks;
  const admin = app.requireScope('admin');

  app.get(
    '/webhooks/endpoints/:id/messages',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Messages of an endpoint',
        description:
          'One message per event sent to the endpoint, ordered by id (creation); page with `after`.',
        params: endpointIdParams,
        querystring: listMessagesQuery,
        response: {
          200: z.object({ items: z.array(messageSchema) }),
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      await getEndpoint(deps, request.params.id);
      const { since, ...rest } = request.query;
      const rows = await listMessages(deps.db, request.params.id, {
        ...rest,
        since: since ? new Date(since) : undefined,
      });
      return { items: rows.map(messageView) };
    },
  );

  app.get(
    '/webhooks/messages/:messageId',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'A message with its attempts',
        description: 'Every attempt: when, status code, duration, error and the first 1 KB of the answer.',
        params: messageIdParams,
        response: { 200: messageWithAttemptsSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const message = await findMessage(deps.db, request.params.messageId);
      if (!message) throw problems.notFound(`webhook message ${request.params.messageId}`);
      const attempts = await listAttempts(deps.db, message.id);
      return { ...messageView(message), payload: message.payload, attemptLog: attempts.map(attemptView) };
    },
  );

  app.post(
    '/webhooks/messages/:messageId/retry',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Send a message again now',
        description:
          'Queues the message (pending, failed or delivered) for an attempt now, with a fresh retry schedule ' +
          'and the same webhook-id. 409 while an attempt is in flight.',
        params: messageIdParams,
        response: { 202: messageSchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { messageId } = request.params;
      const queued = await deps.db
        .transaction()
        .execute((trx) => requeueMessages(trx, { id: messageId }, deps.clock.now()));
      const message = await findMessage(deps.db, messageId);
      if (!message) throw problems.notFound(`webhook message ${messageId}`);
      if (queued.length === 0)
        throw problems.conflict('an attempt of this message is in flight; try again shortly');
      return reply.status(202).send(messageView(message));
    },
  );

  app.post(
    '/webhooks/endpoints/:id/test',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Send a test message to an endpoint',
        description:
          'Queues one message of type nl.citydeals.notification.webhook.test.v1 (no deal in it), signed and ' +
          'retried like any other; follow it with GET /webhooks/messages/{messageId}. 409 when the endpoint ' +
          'is disabled (nothing would be sent).',
        params: endpointIdParams,
        response: { 202: messageSchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const endpoint = await getEndpoint(deps, request.params.id);
      if (!endpoint.enabled) throw problems.conflict('the endpoint is disabled: enable it to send a test');
      const message = await queueTestMessage(deps.db, endpoint.id, deps);
      request.log.info(
        { endpointId: endpoint.id, messageId: message.id, actor: request.actor },
        'test message queued',
      );
      return reply.status(202).send(messageView(message));
    },
  );

  app.post(
    '/webhooks/endpoints/:id/replay',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Send all messages since a time again',
        description:
          'Queues every message of the endpoint created since `since` (or only the failed ones) for a new ' +
          'round of attempts, in deal version order. For gaps older than the log, use the deal-tracking ' +
          'change feed (GET /changes?after=).',
        params: endpointIdParams,
        body: replayBody,
        response: {
          202: z.object({ queued: z.int().describe('Messages queued') }),
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      await getEndpoint(deps, request.params.id);
      const { since, onlyFailed } = request.body;
      const queued = await deps.db
        .transaction()
        .execute((trx) =>
          requeueMessages(
            trx,
            { endpointId: request.params.id, since: new Date(since), onlyFailed },
            deps.clock.now(),
          ),
        );
      return reply.status(202).send({ queued: queued.length });
    },
  );
};
