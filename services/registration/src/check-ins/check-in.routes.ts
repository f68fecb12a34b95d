import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Routes } from '../context.ts';
import { adminErrors } from '../problem-responses.ts';
import { doorOrAdmin, meetingOfRegistration } from '../registrations/door-access.ts';
import { adminRegistrationSchema, registrationIdParams } from '../registrations/registration.schemas.ts';
import { actorOf } from '../staff-actions/actor.ts';
import { undoCheckIn } from './check-in.service.ts';

export const checkInRoutes: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
  fastify.withTypeProvider<ZodTypeProvider>().post(
    '/admin/registrations/:id/check-in/undo',
    {
      onRequest: doorOrAdmin(ctx, admin, meetingOfRegistration(ctx)),
      schema: {
        tags: ['registrations (admin)'],
        security: [{ adminKey: [] }],
        summary: 'Undo a check-in',
        description:
          'The wrong name was tapped at the door: the registration is confirmed again and keeps its seat; ' +
          'announces registration.attendee.check_in_undone naming who undid it. Undoing twice is a no-op. Also ' +
          'open to a door staff token (scope `door`) on the day the meeting is held.',
        params: registrationIdParams,
        response: { 200: adminRegistrationSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => undoCheckIn(ctx, request.params.id, actorOf(request)),
  );
};
