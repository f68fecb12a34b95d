import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { meetingIdParams } from '../meetings/meeting.schemas.ts';
import { adminErrors } from '../problem-responses.ts';
import { surveyAnswerBody, surveyResultsSchema, surveyTokenParams } from './survey.schemas.ts';
import { answerSurvey, sendSurvey, surveyCsv, surveyResults } from './survey.service.ts';

export const surveyRoutes: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const security = [{ adminKey: [] }];
  const tags = ['evaluation (admin)'];

  app.post(
    '/admin/meetings/:id/survey',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Send the feedback survey now',
        description:
          'Mails every attendee checked in a single-use survey link. Sent once per meeting: by the service ' +
          'after the meeting ends, or earlier (once it has started) by this call. A second call sends nothing.',
        params: meetingIdParams,
        response: {
          200: z.object({ invited: z.int(), alreadySent: z.boolean() }).meta({
            example: { invited: 31, alreadySent: false },
          }),
          ...problemResponses(...adminErrors),
        },
      },
    },
    async (request) => sendSurvey(ctx, request.params.id),
  );

  app.get(
    '/admin/meetings/:id/survey',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Feedback survey results of a meeting',
        params: meetingIdParams,
        response: { 200: surveyResultsSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => surveyResults(ctx, request.params.id),
  );

  app.get(
    '/admin/meetings/:id/survey.csv',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Feedback survey answers as CSV for Excel',
        description: 'UTF-8 with BOM, `;`-separated, every field quoted, formula-like text neutralised.',
        params: meetingIdParams,
        response: {
          200: {
            description: 'CSV file',
            content: {
              'text/csv': {
                schema: z.string().meta({ example: '\uFEFF"Datum";"Cijfer (1-5)";…\r\n' }),
              },
            },
          },
          ...problemResponses(...adminErrors),
        },
      },
    },
    async (request, reply) =>
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="survey-${request.params.id}.csv"`)
        .send(await surveyCsv(ctx, request.params.id)),
  );

  app.post(
    '/surveys/:token/answers',
    {
      schema: {
        tags: ['self-service'],
        summary: 'Answer the feedback survey with the mailed link',
        description:
          'One answer per link: a second answers 409, a closed survey 410, an unknown link 404. Anonymous ' +
          'unless `giveName` is true.',
        params: surveyTokenParams,
        body: surveyAnswerBody,
        response: {
          201: z.object({ status: z.literal('answered') }).meta({ example: { status: 'answered' } }),
          ...problemResponses(400, 404, 409, 410),
        },
      },
    },
    async (request, reply) => {
      await answerSurvey(ctx, request.params.token, request.body);
      return reply.status(201).send({ status: 'answered' as const });
    },
  );
};
