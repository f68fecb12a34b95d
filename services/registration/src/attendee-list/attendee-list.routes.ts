import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { tokenParams } from '../registrations/registration.schemas.ts';
import { attendeeListFor } from './attendee-list.service.ts';

export const attendeeListSchema = z
  .object({
    meetingId: z.uuid(),
    attendees: z.array(
      z.object({
        name: z.string(),
        organisation: z.string().nullable(),
        deal: z.object({ id: z.uuid(), name: z.string() }).nullable(),
        you: z.boolean().describe('Whether this is the registration of the link.'),
      }),
    ),
  })
  .meta({
    example: {
      meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
      attendees: [
        {
          name: 'Sanne de Vries',
          organisation: 'Gemeente Utrecht',
          deal: { id: '01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f', name: 'City Deal Klimaatadaptatie' },
          you: true,
        },
      ],
    },
  });

export const attendeeListRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/registrations/manage/:token/attendees',
    {
      schema: {
        tags: ['self-service'],
        summary: 'Who else is coming: the attendees who consented to the list',
        description:
          'Open to the attendees of the meeting through their manage link (not after cancelling: 403). ' +
          'Lists name, organisation and deal of everyone holding a seat who consented (`consents.attendeeList`, ' +
          'off unless ticked at registration or on the manage page); an erased person is gone from it.',
        params: tokenParams,
        response: { 200: attendeeListSchema, ...problemResponses(400, 403, 404) },
      },
    },
    async (request, reply) =>
      reply
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .send(await attendeeListFor(ctx, request.params.token)),
  );
};
