import { dealKindSchema, dealPhaseSchema } from '@citydeals/contracts';
import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { meetingIdParams } from '../meetings/meeting.schemas.ts';
import { adminErrors } from '../problem-responses.ts';
import { adminListQuery } from '../registrations/registration.schemas.ts';
import { attendanceCsv, attendanceReport, attendeeCsv, dealsNotRepresented } from './report.service.ts';

export const reportRoutes: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
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

  const attendanceQuery = z
    .object({
      from: z.coerce
        .number()
        .int()
        .min(2000)
        .max(2100)
        .optional()
        .describe('First calendar year (inclusive)'),
      to: z.coerce.number().int().min(2000).max(2100).optional().describe('Last calendar year (inclusive)'),
      basis: z
        .enum(['attendance', 'registration'])
        .default('attendance')
        .describe('`attendance`: checked in at the door; `registration`: held a seat'),
      rarelyAtMost: z.coerce
        .number()
        .min(0)
        .max(1)
        .default(0.25)
        .describe(
          'An active deal represented at no more than this share of the meetings is "rarely represented"',
        ),
    })
    .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
      path: ['to'],
      message: 'must not be before `from`',
    });
  const yearFigures = z.object({
    year: z.number().int(),
    meetings: z.number().int(),
    meetingsRepresented: z.number().int(),
    people: z.number().int(),
  });
  const attendanceDescription =
    'For the yearly evaluation: every meeting held (started, not cancelled) in the years asked, and per deal ' +
    'at how many of them it was represented and by how many people, per year; active deals never or rarely ' +
    'represented. People without a deal are counted apart.';

  app.get(
    '/admin/reports/attendance',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Attendance per deal across meetings and years',
        description: attendanceDescription,
        querystring: attendanceQuery,
        response: {
          200: z
            .object({
              from: z.number().int().nullable(),
              to: z.number().int().nullable(),
              basis: z.enum(['attendance', 'registration']),
              meetings: z.array(
                z.object({ id: z.uuid(), title: z.string(), startsAt: z.string(), year: z.number().int() }),
              ),
              deals: z.array(
                z.object({
                  dealId: z.uuid(),
                  name: z.string(),
                  kind: z.string(),
                  phase: z.string(),
                  meetingsRepresented: z.number().int(),
                  people: z.number().int(),
                  perYear: z.array(yearFigures),
                }),
              ),
              withoutDeal: z.number().int(),
              neverRepresented: z.array(z.object({ dealId: z.uuid(), name: z.string() })),
              rarelyRepresented: z.array(
                z.object({ dealId: z.uuid(), name: z.string(), meetingsRepresented: z.number().int() }),
              ),
            })
            .meta({
              example: {
                from: 2023,
                to: 2024,
                basis: 'attendance',
                meetings: [
                  {
                    id: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
                    title: 'Community of Practice City Deals',
                    startsAt: '2023-11-23T12:30:00.000Z',
                    year: 2023,
                  },
                ],
                deals: [
                  {
                    dealId: '01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f',
                    name: 'Fietsen voor Iedereen',
                    kind: 'city_deal',
                    phase: 'building',
                    meetingsRepresented: 1,
                    people: 3,
                    perYear: [{ year: 2023, meetings: 1, meetingsRepresented: 1, people: 3 }],
                  },
                ],
                withoutDeal: 4,
                neverRepresented: [{ dealId: '01936a10-2b3c-7d4e-8f50-6a7b8c9d0e20', name: 'Slim Maatwerk' }],
                rarelyRepresented: [],
              },
            }),
          ...problemResponses(...adminErrors),
        },
      },
    },
    async (request) => attendanceReport(ctx, request.query),
  );

  app.get(
    '/admin/reports/attendance.csv',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Attendance per deal as CSV for Excel',
        description: `${attendanceDescription} UTF-8 with BOM, \`;\`-separated, one row per deal.`,
        querystring: attendanceQuery,
        response: {
          200: {
            description: 'CSV file',
            content: {
              'text/csv': {
                schema: z.string().meta({ example: '\uFEFFDeal;Soort;Fase;…\r\n' }),
              },
            },
          },
          ...problemResponses(...adminErrors),
        },
      },
    },
    async (request, reply) => {
      const { filename, body } = await attendanceCsv(ctx, request.query);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .send(body);
    },
  );
};
