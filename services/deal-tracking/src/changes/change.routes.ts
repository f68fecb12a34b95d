import {
  actorSchema,
  dealTrackingEvents,
  idSchema,
  timestampSchema,
  versionSchema,
} from '@citydeals/contracts';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { dealIdParams } from '../deals/deal.schemas.ts';
import { authenticated, problems404, readResponses } from '../http/request.ts';
import { changeFeedPage, historyOf } from './change.service.ts';

const security = [{ adminKey: [] }];
const subjects = Object.values(dealTrackingEvents).map((d) => d.subject) as [string, ...string[]];
const phaseChangedExample = dealTrackingEvents.dealPhaseChanged.example;

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
  .describe('The event exactly as published on NATS (CloudEvents 1.0); its id dedupes between both channels');

const historyItem = z.object({
  version: versionSchema,
  subject: z.enum(subjects).describe('What happened (the event subject)'),
  eventId: idSchema,
  actor: actorSchema,
  occurredAt: timestampSchema,
  data: z.record(z.string(), z.unknown()).describe('The event payload: reason, from/to, changed fields, …'),
});

const historySchema = z
  .object({ dealId: idSchema, version: versionSchema, items: z.array(historyItem) })
  .meta({
    example: {
      dealId: phaseChangedExample.dealId,
      version: 4,
      items: [
        {
          version: 4,
          subject: 'deal_tracking.deal.phase_changed',
          eventId: '01936a60-5f60-7172-8384-95a6b7c8d9e0',
          actor: phaseChangedExample.actor,
          occurredAt: '2023-09-01T09:00:00.000Z',
          data: phaseChangedExample,
        },
      ],
    },
  });

const feedItem = z.object({
  position: z.int().positive().describe('Place in the feed; pass the last one you processed as `after`'),
  dealId: idSchema,
  version: versionSchema,
  event: cloudEventSchema,
});

const feedSchema = z
  .object({
    items: z.array(feedItem),
    next: z.int().min(0).describe('Cursor for the next page: the position of the last item (or `after`)'),
    hasMore: z.boolean().describe('More changes are waiting now; ask again with `after=next`'),
  })
  .meta({
    example: {
      items: [
        {
          position: 42,
          dealId: phaseChangedExample.dealId,
          version: 4,
          event: {
            specversion: '1.0',
            id: '01936a60-5f60-7172-8384-95a6b7c8d9e0',
            source: '/deal-tracking',
            type: dealTrackingEvents.dealPhaseChanged.type,
            subject: phaseChangedExample.dealId,
            time: '2023-09-01T09:00:00.000Z',
            datacontenttype: 'application/json',
            data: phaseChangedExample,
          },
        },
      ],
      next: 42,
      hasMore: false,
    },
  });

export const changeRoutes: Routes = async (app, { ctx }) => {
  const read = authenticated(app, 'read');

  app.get(
    '/deals/:id/history',
    {
      ...read,
      schema: {
        tags: ['changes'],
        summary: 'Every change of a deal, in order',
        description:
          'One item per version: what changed, who did it, when, and the payload (e.g. the reason).',
        security,
        params: dealIdParams,
        response: { 200: historySchema, ...readResponses, 404: problems404 },
      },
    },
    async (request) => {
      const { deal, changes } = await historyOf(ctx, request.params.id);
      return {
        dealId: deal.id,
        version: deal.version,
        items: changes.map((c) => {
          const data = c.event.data as { actor: z.infer<typeof actorSchema>; occurredAt: string };
          return {
            version: c.version,
            subject: c.subject,
            eventId: c.event.id,
            actor: data.actor,
            occurredAt: data.occurredAt,
            data: c.event.data,
          };
        }),
      };
    },
  );

  app.get(
    '/changes',
    {
      ...read,
      schema: {
        tags: ['changes'],
        summary: 'Change feed: every change of every deal, in commit order',
        description:
          'For systems that catch up after downtime without webhooks: start with `after=0`, then pass `next`. ' +
          'Each change appears exactly once, in the order the changes committed; a change whose transaction ' +
          'committed late is never skipped (it gets a position after everything already returned). Per deal, ' +
          'versions appear in order.',
        security,
        querystring: z.object({
          after: z.coerce
            .number()
            .int()
            .min(0)
            .default(0)
            .describe('Cursor: the last position already processed (0 from the beginning)'),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: feedSchema, ...readResponses },
      },
    },
    async (request) => {
      const page = await changeFeedPage(ctx, request.query.after, request.query.limit);
      return {
        next: page.next,
        hasMore: page.hasMore,
        items: page.items.map((c) => ({
          position: c.position ?? 0,
          dealId: c.dealId,
          version: c.version,
          event: c.event as z.infer<typeof cloudEventSchema>,
        })),
      };
    },
  );
};
