import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Routes } from '../context.ts';
import { adminErrors } from '../problem-responses.ts';
import { adminRegistrationSchema, registrationIdParams } from '../registrations/registration.schemas.ts';
import { actorOf } from '../staff-actions/actor.ts';
import { attendeeChangeBody } from './attendee-change.schemas.ts';
import { changeAttendee } from './attendee-change.service.ts';

export const attendeeChangeRoutes: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
  fastify.withTypeProvider<ZodTypeProvider>().patch(
    '/admin/registrations/:id',
    {
      onRequest: admin,
      schema: {
        tags: ['registrations (admin)'],
        security: [{ adminKey: [] }],
        summary: 'Correct a registration, or hand its place to someone else',
        description:
          'Without `substitute`: corrects name, address, organisation, role or deal of the same person ' +
          '(registration.attendee.details_changed; no mail). With `substitute`: another person takes over the ' +
          'seat or waitlist place with their own manage link and a confirmation mail ' +
          '(registration.attendee.substituted); the previous link stops working. The seat counts do not change.',
        params: registrationIdParams,
        body: attendeeChangeBody,
        response: { 200: adminRegistrationSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => changeAttendee(ctx, request.params.id, request.body, actorOf(request)),
  );
};
