import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Routes } from '../context.ts';
import { capacityBody, capacityResultSchema, meetingIdParams } from '../meetings/meeting.schemas.ts';
import { adminErrors } from '../problem-responses.ts';
import { changeCapacity } from './seat.service.ts';

export const seatRoutes: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
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
};
