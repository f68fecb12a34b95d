import { problemResponses } from '@citydeals/service-kit';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ServiceContext } from '../context.ts';
import { meetingIdParams } from '../meetings/meeting.schemas.ts';
import {
  ownRegistrationSchema,
  registerBody,
  registrationResultSchema,
  tokenParams,
  updateNeedsBody,
} from './registration.schemas.ts';
import {
  cancelOwnRegistration,
  register,
  updateOwnNeeds,
  viewOwnRegistration,
} from './registration.service.ts';

/** A registration is a few hundred bytes; anything far larger is not one. */
export const REGISTRATION_BODY_LIMIT = 16 * 1024;

export function registrationRoutes(fastify: FastifyInstance, { ctx }: { ctx: ServiceContext }) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/meetings/:id/registrations',
    {
      bodyLimit: REGISTRATION_BODY_LIMIT,
      schema: {
        tags: ['registrations'],
        summary: 'Register for a published meeting',
        description:
          'Answers 201 with `confirmed` or `waitlisted` (with position) and a secret manage link. The same email ' +
          'again for the same meeting answers 200 with the existing registration and no link (it was mailed). ' +
          'Cancelled or closed meetings answer 409.',
        params: meetingIdParams,
        body: registerBody,
        response: {
          201: registrationResultSchema,
          200: registrationResultSchema,
          ...problemResponses(400, 404, 409, 413),
        },
      },
    },
    async (request, reply) => {
      const result = await register(ctx, request.params.id, request.body);
      return reply.status(result.existing ? 200 : 201).send(result);
    },
  );

  app.get(
    '/registrations/manage/:token',
    {
      schema: {
        tags: ['self-service'],
        summary: 'View your registration with the token from the manage link',
        params: tokenParams,
        response: { 200: ownRegistrationSchema, ...problemResponses(400, 404) },
      },
    },
    async (request) => viewOwnRegistration(ctx, request.params.token),
  );

  app.patch(
    '/registrations/manage/:token',
    {
      bodyLimit: REGISTRATION_BODY_LIMIT,
      schema: {
        tags: ['self-service'],
        summary: 'Update your dietary and accessibility needs or consents',
        params: tokenParams,
        body: updateNeedsBody,
        response: { 200: ownRegistrationSchema, ...problemResponses(400, 404, 409, 413) },
      },
    },
    async (request) => updateOwnNeeds(ctx, request.params.token, request.body),
  );

  app.post(
    '/registrations/manage/:token/cancel',
    {
      schema: {
        tags: ['self-service'],
        summary: 'Cancel your registration',
        description:
          'Frees the seat (the longest-waiting registration is promoted) and announces ' +
          'registration.attendee.cancelled. Cancelling twice is a no-op.',
        params: tokenParams,
        response: {
          200: z.object({ status: z.literal('cancelled') }).meta({ example: { status: 'cancelled' } }),
          ...problemResponses(400, 404, 409),
        },
      },
    },
    async (request) => {
      await cancelOwnRegistration(ctx, request.params.token);
      return { status: 'cancelled' as const };
    },
  );
}
