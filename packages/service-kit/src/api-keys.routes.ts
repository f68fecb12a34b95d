import { z } from 'zod';
import { API_KEY_PATTERN, type ApiKeyRecord, scopes } from './api-keys.ts';
import type { ServicePlugin } from './http-server.ts';
import { problemResponses, problems } from './problem.ts';

const keySchema = z.object({
  id: z.number().int().meta({ example: 7 }),
  name: z.string().meta({ example: 'website' }),
  scopes: z.array(z.string()).meta({ example: ['read'] }),
  source: z
    .enum(['config', 'issued'])
    .describe('`config`: named by a variable such as ADMIN_API_KEY; `issued`: made through this API'),
  createdAt: z.string(),
  createdBy: z.string().nullable().meta({ example: 'api-key:ADMIN_API_KEY' }),
  lastUsedAt: z.string().nullable().describe('To the minute'),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable().meta({ example: 'staff:Bea Beheerder <bea@example.org>' }),
});

const toJson = (r: ApiKeyRecord) => ({
  id: r.id,
  name: r.name,
  scopes: r.scopes,
  source: r.source,
  createdAt: r.createdAt.toISOString(),
  createdBy: r.createdBy,
  lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
  revokedAt: r.revokedAt?.toISOString() ?? null,
  revokedBy: r.revokedBy,
});

/**
 * Keys per consuming system, on every service: issue one for a system, see when each was last used, revoke
 * one at once. No restart; the configured keys (ADMIN_API_KEY, …) are listed and revocable too.
 */
export const apiKeyRoutes: ServicePlugin = async (app) => {
  const admin = app.requireScope('admin');
  const tags = ['operations'];
  const security = [{ adminKey: [] }];

  app.get(
    '/admin/api-keys',
    {
      onRequest: admin,
      schema: {
        tags,
        summary: 'Every API key of this service, revoked ones included (never the keys themselves)',
        security,
        response: { 200: z.object({ items: z.array(keySchema) }), ...problemResponses(401, 403) },
      },
    },
    async () => ({ items: (await app.apiKeys.list()).map(toJson) }),
  );

  app.post(
    '/admin/api-keys',
    {
      onRequest: admin,
      schema: {
        tags,
        summary: 'Issue a key for one consuming system; the answer is the only time the key is shown',
        security,
        body: z.object({
          name: z
            .string()
            .trim()
            .min(1)
            .max(100)
            .describe('The system that will use it')
            .meta({ example: 'website' }),
          scopes: z
            .array(z.enum(scopes))
            .min(1)
            .refine((list) => new Set(list).size === list.length, 'no scope twice')
            .describe('`admin` can do everything; `read` only reads (deal-tracking)')
            .meta({ example: ['read'] }),
          key: z
            .string()
            .regex(API_KEY_PATTERN, 'cdk_ followed by 43 base64url characters (256 random bits)')
            .optional()
            .describe(
              'The key to register, when one system is to use one key at several services (the console ' +
                'generates it and registers it at each). Absent: the service generates one.',
            ),
        }),
        response: {
          201: keySchema.extend({ key: z.string().describe('Send as `Authorization: Bearer <key>`') }),
          ...problemResponses(400, 401, 403, 409),
        },
      },
    },
    async (request, reply) => {
      const issued = await app.apiKeys.issue({
        name: request.body.name,
        scopes: request.body.scopes,
        createdBy: request.actor ?? 'unknown',
        key: request.body.key,
      });
      if (!issued) throw problems.conflict('this key is registered already');
      return reply.status(201).send({ ...toJson(issued.record), key: issued.key });
    },
  );

  app.delete(
    '/admin/api-keys/:id',
    {
      onRequest: admin,
      schema: {
        tags,
        summary: 'Revoke a key: it stops working at once, on every replica, and stays revoked',
        security,
        params: z.object({ id: z.coerce.number().int().positive() }),
        response: { 200: keySchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      // Revoking the key in hand locks its holder out, maybe for good (the last admin key): another key must.
      if (request.apiKeyId === request.params.id) {
        throw problems.conflict('a key cannot revoke itself; revoke it with another admin key');
      }
      const record = await app.apiKeys.revoke(request.params.id, request.actor ?? 'unknown');
      if (!record) throw problems.notFound(`API key ${request.params.id}`);
      return toJson(record);
    },
  );
};
