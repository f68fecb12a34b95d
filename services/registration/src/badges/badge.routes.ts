import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { meetingIdParams } from '../meetings/meeting.schemas.ts';
import { adminErrors } from '../problem-responses.ts';
import { sheetLayoutNames, sheetLayouts } from './badge.layout.ts';
import { meetingBadges } from './badge.service.ts';

export const badgeRoutes: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/admin/meetings/:id/badges.pdf',
    {
      onRequest: admin,
      schema: {
        tags: ['reports (admin)'],
        security: [{ adminKey: [] }],
        summary: 'Name badges as a printable PDF',
        description:
          'A4 sheets of name badges (name, organisation, deal), by name. Layouts: ' +
          Object.entries(sheetLayouts)
            .map(([name, layout]) => `\`${name}\` — ${layout.title}`)
            .join('; ') +
          '. `who=seated` (default) prints everyone holding a seat, `who=checked_in` only those at the door.',
        params: meetingIdParams,
        querystring: z.object({
          layout: z.enum(sheetLayoutNames).default('avery-l7163'),
          who: z.enum(['seated', 'checked_in']).default('seated'),
        }),
        response: {
          200: {
            description: 'PDF file',
            content: {
              'application/pdf': { schema: z.instanceof(Buffer).meta({ type: 'string', format: 'binary' }) },
            },
          },
          ...problemResponses(...adminErrors),
        },
      },
    },
    async (request, reply) => {
      const { filename, pdf, count } = await meetingBadges(ctx, request.params.id, request.query);
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .header('x-badge-count', String(count))
        .send(pdf);
    },
  );
};
