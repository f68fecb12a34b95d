import { problemResponses } from '@citydeals/service-kit';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import {
  changeEndpoint,
  createEndpoint,
  findEndpoints,
  getEndpoint,
  removeEndpoint,
  rotateSecret,
  setEndpointEnabled,
} from './endpoint.service.ts';
import {
  createEndpointBody,
  endpointIdParams,
  endpointSchema,
  endpointView,
  endpointWithSecretSchema,
  listEndpointsQuery,
  rotateSecretBody,
  updateEndpointBody,
} from './webhook.schemas.ts';

const tags = ['webhooks'];
const security = [{ adminKey: [] }];

/** Admin API of webhook endpoints: where deal changes are sent, which ones, and with which secret. */
export const endpointRoutes: Routes = async (app, { ctx }) => {
  const deps = ctx.webhooks;
  const admin = app.requireScope('admin');

  app.post(
    '/webhooks/endpoints',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Register a webhook endpoint',
        description:
          'Creates an endpoint that receives the chosen deal events, signed per Standard Webhooks. The answer ' +
          'holds the signing secret; it is never shown again (rotate it to get a new one). The URL is refused ' +
          'if it is not http(s) or points at a private, loopback, link-local, multicast or metadata address.',
        body: createEndpointBody,
        response: { 201: endpointWithSecretSchema, ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await createEndpoint(deps, request.body, request.actor ?? null);
      return reply.status(201).send({ ...endpointView(endpoint), secret });
    },
  );

  app.get(
    '/webhooks/endpoints',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'List webhook endpoints',
        description: 'Ordered by id; page with `after` = the last id of the previous page.',
        querystring: listEndpointsQuery,
        response: { 200: z.object({ items: z.array(endpointSchema) }), ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => ({ items: (await findEndpoints(deps, request.query)).map(endpointView) }),
  );

  app.get(
    '/webhooks/endpoints/:id',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Get a webhook endpoint',
        description: 'The endpoint and its health; the secret is not shown.',
        params: endpointIdParams,
        response: { 200: endpointSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => endpointView(await getEndpoint(deps, request.params.id)),
  );

  app.patch(
    '/webhooks/endpoints/:id',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Change a webhook endpoint',
        description: 'Changes the URL (checked like at creation), description, event types or deal filter.',
        params: endpointIdParams,
        body: updateEndpointBody,
        response: { 200: endpointSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => endpointView(await changeEndpoint(deps, request.params.id, request.body)),
  );

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post(
      `/webhooks/endpoints/:id/${action}`,
      {
        onRequest: admin,
        schema: {
          tags,
          security,
          summary: enabled ? 'Enable a webhook endpoint' : 'Disable a webhook endpoint',
          description: enabled
            ? 'Sending resumes with the messages still pending; its failure clock starts over.'
            : 'Nothing is sent and no new messages are recorded until it is enabled again.',
          params: endpointIdParams,
          response: { 200: endpointSchema, ...problemResponses(400, 401, 403, 404) },
        },
      },
      async (request) => endpointView(await setEndpointEnabled(deps, request.params.id, enabled)),
    );
  }

  app.delete(
    '/webhooks/endpoints/:id',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Delete a webhook endpoint',
        description: 'Deletes the endpoint with its messages and delivery log.',
        params: endpointIdParams,
        response: { 204: z.null().describe('Deleted'), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await removeEndpoint(deps, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/webhooks/endpoints/:id/rotate-secret',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Rotate the signing secret',
        description:
          'Issues a new secret (shown only in this answer). Until `previousSecretExpiresAt`, every message ' +
          'carries a signature with the new and with the old secret, so the receiver can switch at leisure.',
        params: endpointIdParams,
        body: rotateSecretBody,
        response: { 200: endpointWithSecretSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const graceSeconds = request.body?.graceSeconds;
      const { endpoint, secret } = await rotateSecret(
        deps,
        request.params.id,
        graceSeconds === undefined ? undefined : graceSeconds * 1000,
      );
      return { ...endpointView(endpoint), secret };
    },
  );
};
