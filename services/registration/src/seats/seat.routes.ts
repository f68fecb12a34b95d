import { problemResponses } from '@citydeals/service-kit';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ServiceContext } from '../context.ts';
import { capacityBody, capacityResultSchema, meetingIdParams } from '../meetings/meeting.schemas.ts';
import { adminErrors } from '../problem-responses.ts';
import { changeCapacity } from './seat.service.ts';

export function seatRoutes(
  fastify: FastifyInstance,
  { ctx, admin }: { ctx: ServiceContext; admin: onRequestAsyncHookHandler },
) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.put(
    '/admin/meetings/:id/capacity',
    {
      onRequest: admin,
      schema: {
        tags: ['meetings (admin)'],
        security: [{ adminKey: [] }],
        summary: 'Change the capacity',
        description:
          'Raising it promotes the longest-waiting registrations in order (registration.attendee.promoted each); ' +
          'lowering it never unseats anyone already confirmed.',
        params: meetingIdParams,
        body: capacityBody,
        response: { 200: capacityResultSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => changeCapacity(ctx, request.params.id, request.body.capacity),
  );
}
