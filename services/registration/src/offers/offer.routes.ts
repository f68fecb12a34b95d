import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Routes } from '../context.ts';
import { offerAnswerSchema, offerTokenParams, offerViewSchema } from './offer.schemas.ts';
import { answerOffer, viewOffer } from './offer.service.ts';

export const offerRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/registrations/offers/:token',
    {
      schema: {
        tags: ['self-service'],
        summary: 'View a waitlist offer with the token from the offer mail',
        description: 'Reading changes nothing: mail scanners follow links.',
        params: offerTokenParams,
        response: { 200: offerViewSchema, ...problemResponses(400, 404) },
      },
    },
    async (request) => viewOffer(ctx, request.params.token),
  );

  app.post(
    '/registrations/offers/:token/accept',
    {
      schema: {
        tags: ['self-service'],
        summary: 'Accept the seat a waitlist offer holds',
        description:
          'Confirms the registration (registration.attendee.promoted). Accepting twice answers the same. ' +
          'Too late: 410 offer-expired, nothing changed; declined, withdrawn or the meeting closed: 409 ' +
          '(meeting-cancelled when the meeting was cancelled).',
        params: offerTokenParams,
        response: { 200: offerAnswerSchema, ...problemResponses(400, 404, 409, 410) },
      },
    },
    async (request) => answerOffer(ctx, request.params.token, 'accept'),
  );

  app.post(
    '/registrations/offers/:token/decline',
    {
      schema: {
        tags: ['self-service'],
        summary: 'Decline the seat a waitlist offer holds',
        description:
          'Gives up the waitlist place (registration.attendee.cancelled) and offers the seat to the next in ' +
          'line. Declining twice answers the same; too late: 410, nothing changed.',
        params: offerTokenParams,
        response: { 200: offerAnswerSchema, ...problemResponses(400, 404, 409, 410) },
      },
    },
    async (request) => answerOffer(ctx, request.params.token, 'decline'),
  );
};
