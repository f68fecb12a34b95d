import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { meetingRefParams } from '../meetings/meeting.schemas.ts';
import { tokenParams } from '../registrations/registration.schemas.ts';
import { meetingCalendar, meetingsFeed, ownCalendar } from './calendar.service.ts';

const ICS_TYPE = 'text/calendar; charset=utf-8';
const icsResponse = {
  200: {
    description: 'An iCalendar file (RFC 5545)',
    content: {
      'text/calendar': { schema: z.string().meta({ example: 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\n…' }) },
    },
  },
};

export const calendarRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const tags = ['calendar'];

  app.get(
    '/calendar/meetings.ics',
    {
      schema: {
        tags,
        summary: 'Calendar feed of all published meetings',
        description: 'Subscribe to it; cancelled meetings stay in it with STATUS:CANCELLED.',
        response: icsResponse,
      },
    },
    async (_request, reply) => reply.type(ICS_TYPE).send(await meetingsFeed(ctx)),
  );

  app.get(
    '/meetings/:ref/calendar.ics',
    {
      schema: {
        tags,
        summary: 'Calendar file of one published meeting',
        description:
          'Stable UID per meeting; SEQUENCE grows with each change of times, title, venue or online link. ' +
          'Venue name without address.',
        params: meetingRefParams,
        response: { ...icsResponse, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const body = await meetingCalendar(ctx, request.params.ref);
      return reply
        .type(ICS_TYPE)
        .header('content-disposition', 'attachment; filename="bijeenkomst.ics"')
        .send(body);
    },
  );

  app.get(
    '/registrations/manage/:token/calendar.ics',
    {
      schema: {
        tags: ['self-service'],
        summary: 'Calendar file of your meeting, with the venue address',
        params: tokenParams,
        response: { ...icsResponse, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const body = await ownCalendar(ctx, request.params.token);
      return reply
        .type(ICS_TYPE)
        .header('content-disposition', 'attachment; filename="bijeenkomst.ics"')
        .send(body);
    },
  );
};
