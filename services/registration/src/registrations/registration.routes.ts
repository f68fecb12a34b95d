import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { meetingIdParams } from '../meetings/meeting.schemas.ts';
import { requestManageLinks } from './manage-link.service.ts';
import {
  awaitingConfirmationSchema,
  manageLinkRequestBody,
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

export const registrationRoutes: Routes = async (fastify, { ctx }) => {
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
          'again for the same meeting answers 200 with `existing: true` and nothing about that registration; ' +
          'a fresh manage link is mailed to the address instead (a few times an hour at most). Cancelled or ' +
          'closed meetings, and a full meeting with a full waitlist, answer 409; more registrations than the ' +
          'hourly budgets allow (per client address and meeting, per email address) answer 429. This API ' +
          'asks for no proof of work (integrations use it); the budgets and the rate limit brake it instead. ' +
          'A meeting that asks for the address to be confirmed answers 202 instead, whatever the address: a ' +
          'confirmation link is mailed to it and no seat is held until it is followed ' +
          '(`POST /registrations/confirmations/{token}`).',
        params: meetingIdParams,
        body: registerBody,
        response: {
          201: registrationResultSchema,
          200: registrationResultSchema,
          202: awaitingConfirmationSchema,
          ...problemResponses(400, 404, 409, 413, 429),
        },
      },
    },
    async (request, reply) => {
      const result = await register(ctx, request.params.id, request.body, { client: request.ip });
      if (result.status === 'awaiting_confirmation') return reply.status(202).send(result);
      return reply.status(result.existing ? 200 : 201).send(result);
    },
  );

  app.post(
    '/registrations/manage-links',
    {
      bodyLimit: REGISTRATION_BODY_LIMIT,
      schema: {
        tags: ['self-service'],
        summary: 'Send me my link again',
        description:
          'Every live registration of the address for a meeting still to come gets a new manage link, mailed to ' +
          'the address; the old links stop working. Answers 202 whether or not the address is registered. At ' +
          'most a few mails an hour go to one address; too many requests from one client answer 429.',
        security: [],
        body: manageLinkRequestBody,
        response: {
          202: z.object({ status: z.literal('accepted') }).meta({ example: { status: 'accepted' } }),
          ...problemResponses(400, 413, 429),
        },
      },
    },
    async (request, reply) => {
      await requestManageLinks(ctx, request.body.email, { client: request.ip });
      return reply.status(202).send({ status: 'accepted' as const });
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
};
