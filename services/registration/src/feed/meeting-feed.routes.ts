import { idSchema, publicMeetingScheduled, timestampSchema, versionSchema } from '@citydeals/contracts';
import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { meetingFeedPage } from './meeting-feed.service.ts';

const cloudEventSchema = z
  .object({
    specversion: z.literal('1.0'),
    id: idSchema,
    source: z.string(),
    type: z.string(),
    subject: z.string(),
    time: timestampSchema,
    datacontenttype: z.literal('application/json').optional(),
    data: z.record(z.string(), z.unknown()),
  })
  .describe(
    'The event exactly as published on NATS and sent to webhooks (CloudEvents 1.0); dedupe on its id',
  );

const example = publicMeetingScheduled.example;

const feedSchema = z
  .object({
    items: z.array(
      z.object({
        position: z
          .int()
          .positive()
          .describe('Place in the feed; pass the last one you processed as `after`'),
        meetingId: idSchema,
        version: versionSchema.describe('The meeting’s version in this feed (data.version)'),
        event: cloudEventSchema,
      }),
    ),
    next: z.int().min(0).describe('Cursor for the next page: the position of the last item (or `after`)'),
    hasMore: z.boolean().describe('More changes are waiting now; ask again with `after=next`'),
  })
  .meta({
    example: {
      items: [
        {
          position: 7,
          meetingId: example.meetingId,
          version: 1,
          event: {
            specversion: '1.0',
            id: '01936b2b-0000-7c3e-9a1b-2d4e6f708192',
            source: '/registration',
            type: publicMeetingScheduled.type,
            subject: example.meetingId,
            time: '2023-10-02T09:00:00.000Z',
            datacontenttype: 'application/json',
            data: example,
          },
        },
      ],
      next: 7,
      hasMore: false,
    },
  });

export const meetingFeedRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/changes',
    {
      onRequest: fastify.requireScope('read'),
      schema: {
        tags: ['meeting feed'],
        security: [{ adminKey: [] }],
        summary: 'Change feed of public meetings, for other systems',
        description:
          'Every registration.public_meeting.* event (scheduled, changed, rescheduled, cancelled, seats_changed, ' +
          'attendance_recorded), in the order they were written, without personal data: start with `after=0`, ' +
          'then pass `next`. The same events are sent to webhook endpoints that subscribe to them. Needs a key ' +
          'with the `read` scope.',
        querystring: z.object({
          after: z.coerce
            .number()
            .int()
            .min(0)
            .default(0)
            .describe('Cursor: the last position already processed (0 from the beginning)'),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: feedSchema, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const page = await meetingFeedPage(ctx, request.query.after, request.query.limit);
      return {
        next: page.next,
        hasMore: page.hasMore,
        items: page.items.map((item) => ({ ...item, event: item.event as z.infer<typeof cloudEventSchema> })),
      };
    },
  );
};
