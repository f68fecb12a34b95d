import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { meetingIdParams } from '../meetings/meeting.schemas.ts';
import { adminErrors } from '../problem-responses.ts';
import { REGISTRATION_BODY_LIMIT } from '../registrations/registration.routes.ts';
import { tokenParams } from '../registrations/registration.schemas.ts';
import {
  adminQuestionSchema,
  answersBody,
  changeQuestionBody,
  newQuestionBody,
  ownAnswersSchema,
  questionParams,
  questionSchema,
} from './question.schemas.ts';
import {
  addQuestion,
  changeOwnAnswers,
  changeQuestion,
  listAdminQuestions,
  publicQuestions,
  removeQuestion,
  viewOwnAnswers,
} from './question.service.ts';

export const questionRoutes: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const security = [{ adminKey: [] }];
  const tags = ['meetings (admin)'];

  app.get(
    '/admin/meetings/:id/questions',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Questions on the registration form of a meeting',
        params: meetingIdParams,
        response: {
          200: z.object({ items: z.array(adminQuestionSchema) }),
          ...problemResponses(...adminErrors),
        },
      },
    },
    async (request) => listAdminQuestions(ctx, request.params.id),
  );

  app.post(
    '/admin/meetings/:id/questions',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Add a question to the registration form',
        description:
          'Kinds: short_text (200 characters), long_text (2000), one_choice, several_choices (2 to 20 choices ' +
          'each), yes_no. Labels in Dutch and English. At most 20 questions per meeting (409 beyond).',
        params: meetingIdParams,
        body: newQuestionBody,
        response: { 201: questionSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request, reply) => reply.status(201).send(await addQuestion(ctx, request.params.id, request.body)),
  );

  app.patch(
    '/admin/meetings/:id/questions/:questionId',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Change a question',
        description:
          'Once someone answered it, its kind cannot change and a choice someone took cannot go (409); labels, ' +
          'order, other choices and `required` can. `choices` replaces the list: keep the ids of choices kept.',
        params: questionParams,
        body: changeQuestionBody,
        response: { 200: questionSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => changeQuestion(ctx, request.params.id, request.params.questionId, request.body),
  );

  app.delete(
    '/admin/meetings/:id/questions/:questionId',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Remove a question and every answer to it',
        description: 'The question leaves the form, the manage page and the export; its answers are deleted.',
        params: questionParams,
        response: {
          200: z
            .object({ removed: z.literal(true), answersDeleted: z.int() })
            .meta({ example: { removed: true, answersDeleted: 12 } }),
          ...problemResponses(...adminErrors),
        },
      },
    },
    async (request) => removeQuestion(ctx, request.params.id, request.params.questionId),
  );

  app.get(
    '/meetings/:id/questions',
    {
      schema: {
        tags: ['registrations'],
        summary: 'Questions the registration form of a published meeting asks',
        description: 'Answer them in `answers` of POST /meetings/{id}/registrations, by question id.',
        params: meetingIdParams,
        response: { 200: z.object({ items: z.array(questionSchema) }), ...problemResponses(400, 404) },
      },
    },
    async (request) => ({ items: await publicQuestions(ctx, request.params.id) }),
  );

  app.get(
    '/registrations/manage/:token/answers',
    {
      schema: {
        tags: ['self-service'],
        summary: 'Your answers to the questions of the meeting',
        params: tokenParams,
        response: { 200: ownAnswersSchema, ...problemResponses(400, 404) },
      },
    },
    async (request) => viewOwnAnswers(ctx, request.params.token),
  );

  app.put(
    '/registrations/manage/:token/answers',
    {
      bodyLimit: REGISTRATION_BODY_LIMIT,
      schema: {
        tags: ['self-service'],
        summary: 'Change your answers',
        description:
          'Replaces all your answers with these, checked as at registration (required questions included). A ' +
          'cancelled registration answers 409.',
        params: tokenParams,
        body: answersBody,
        response: { 200: ownAnswersSchema, ...problemResponses(400, 404, 409, 413) },
      },
    },
    async (request) => changeOwnAnswers(ctx, request.params.token, request.body.answers),
  );
};
