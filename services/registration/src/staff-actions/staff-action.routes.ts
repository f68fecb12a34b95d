import { problemResponses } from '@citydeals/service-kit';
import fastifyPlugin from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { meetingIdParams } from '../meetings/meeting.schemas.ts';
import { adminErrors } from '../problem-responses.ts';
import { actorOf } from './actor.ts';
import { listStaffActionsOfMeeting, recordStaffAction } from './staff-action.repository.ts';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Every successful admin change is recorded with who made it — the person behind a console staff token, or
 * the API key — before the answer leaves, so whoever sees the change can find its author. Not encapsulated
 * (and the first feature of the service): its hook must see the admin routes of every other feature.
 */
const staffActions: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
  fastify.addHook('onSend', async (request, reply, payload) => {
    const url = request.routeOptions.url;
    if (!url?.startsWith('/admin/') || !WRITES.has(request.method) || reply.statusCode >= 400) return payload;
    // A preview changes nothing.
    if (url.endsWith('/consequences')) return payload;
    const id = (request.params as { id?: string } | undefined)?.id ?? null;
    await recordStaffAction(ctx.db, {
      at: ctx.clock.now(),
      actor: actorOf(request),
      action: `${request.method} ${url}`,
      meetingId: url.startsWith('/admin/meetings/:id') ? id : null,
      registrationId: url.startsWith('/admin/registrations/:id') ? id : null,
      status: reply.statusCode,
    });
    return payload;
  });

  fastify.withTypeProvider<ZodTypeProvider>().get(
    '/admin/meetings/:id/staff-actions',
    {
      onRequest: admin,
      schema: {
        tags: ['meetings (admin)'],
        security: [{ adminKey: [] }],
        summary: 'Who changed this meeting and its registrations',
        description:
          'The admin changes to the meeting and its registrations, newest first, each with the person (through ' +
          'the console) or API key that made it.',
        params: meetingIdParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                at: z.string(),
                actor: z.object({
                  type: z.enum(['user', 'api_key', 'system']),
                  id: z.string(),
                  name: z.string().nullable(),
                }),
                action: z.string().meta({ example: 'POST /admin/registrations/:id/check-in' }),
                registrationId: z.uuid().nullable(),
                registrationName: z.string().nullable(),
              }),
            ),
          }),
          ...problemResponses(...adminErrors),
        },
      },
    },
    async (request) => {
      const rows = await listStaffActionsOfMeeting(ctx.db, request.params.id, request.query.limit);
      return {
        items: rows.map((r) => ({
          at: r.at.toISOString(),
          actor: { type: r.actor_type, id: r.actor_id, name: r.actor_name },
          action: r.action,
          registrationId: r.registration_id,
          registrationName: r.registration_name,
        })),
      };
    },
  );
};

export const staffActionRoutes = fastifyPlugin(staffActions);
