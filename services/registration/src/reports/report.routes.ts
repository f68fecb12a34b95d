import { dealKindSchema, dealPhaseSchema } from '@citydeals/contracts';
import { problemResponses } from '@citydeals/service-kit';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ServiceContext } from '../context.ts';
import { meetingIdParams } from '../meetings/meeting.schemas.ts';
import { adminErrors } from '../problem-responses.ts';
import { adminListQuery } from '../registrations/registration.schemas.ts';
import { attendeeCsv, dealsNotRepresented } from './report.service.ts';

export function reportRoutes(
  fastify: FastifyInstance,
  { ctx, admin }: { ctx: ServiceContext; admin: onRequestAsyncHookHandler },
) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const security = [{ adminKey: [] }];
  const tags = ['reports (admin)'];

  app.get(
    '/admin/meetings/:id/registrations.csv',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Attendee list as CSV for Excel',
        description:
          'UTF-8 with BOM, `;`-separated, CRLF, Dutch headers, quoted where needed; formula-like text is ' +
          'neutralised. Takes the same filters as the JSON list.',
        params: meetingIdParams,
        querystring: adminListQuery.omit({ limit: true, offset: true }),
        response: {
          200: {
            description: 'CSV file',
            content: {
              'text/csv': {
                schema: z.string().meta({ example: '\uFEFFNaam;E-mail;Organisatie;Rol;Deal;Status\r\n…' }),
              },
            },
          },
          ...problemResponses(...adminErrors),
        },
      },
    },
    async (request, reply) => {
      const { q, ...rest } = request.query;
      const { filename, body } = await attendeeCsv(ctx, request.params.id, { ...rest, search: q });
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .send(body);
    },
  );

  app.get(
    '/admin/meetings/:id/deals-not-represented',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Active deals with nobody at the meeting',
        description:
          '`basis=attendance` counts checked-in attendees, `basis=registration` confirmed ones; the default ' +
          'is attendance once the meeting has started.',
        params: meetingIdParams,
        querystring: z.object({ basis: z.enum(['attendance', 'registration']).optional() }),
        response: {
          200: z
            .object({
              meetingId: z.uuid(),
              basis: z.enum(['attendance', 'registration']),
              items: z.array(
                z.object({
                  dealId: z.uuid(),
                  name: z.string(),
                  kind: dealKindSchema,
                  phase: dealPhaseSchema,
                }),
              ),
            })
            .meta({
              example: {
                meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
                basis: 'attendance',
                items: [
                  {
                    dealId: '01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f',
                    name: 'Fietsen voor Iedereen',
                    kind: 'city_deal',
                    phase: 'building',
                  },
                ],
              },
            }),
          ...problemResponses(...adminErrors),
        },
      },
    },
    async (request) => {
      const result = await dealsNotRepresented(ctx, request.params.id, request.query.basis);
      return {
        ...result,
        items: result.items.map((i) => ({
          ...i,
          kind: dealKindSchema.parse(i.kind),
          phase: dealPhaseSchema.parse(i.phase),
        })),
      };
    },
  );
}
