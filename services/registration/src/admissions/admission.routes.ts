import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Routes } from '../context.ts';
import { meetingIdParams } from '../meetings/meeting.schemas.ts';
import { adminErrors } from '../problem-responses.ts';
import { adminRegistrationSchema } from '../registrations/registration.schemas.ts';
import { admitBody } from './admission.schemas.ts';
import { admitAttendee } from './admission.service.ts';

export const admissionRoutes: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
  fastify.withTypeProvider<ZodTypeProvider>().post(
    '/admin/meetings/:id/registrations',
    {
      onRequest: admin,
      schema: {
        tags: ['registrations (admin)'],
        security: [{ adminKey: [] }],
        summary: 'Register someone on behalf of the office',
        description:
          'Confirmed at once on a free seat, or above capacity with `overCapacity` (speakers, guests); outside ' +
          'the public registration window too. Announces registration.attendee.registered, so they get the ' +
          'confirmation mail with their own manage link. 409 when the address is already registered or no seat ' +
          'is free without `overCapacity`.',
        params: meetingIdParams,
        body: admitBody,
        response: { 201: adminRegistrationSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await admitAttendee(ctx, request.params.id, request.body)),
  );
};
