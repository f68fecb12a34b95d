import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { meetingIdParams, meetingRefParams } from '../meetings/meeting.schemas.ts';
import { adminErrors } from '../problem-responses.ts';
import { REGISTRATION_BODY_LIMIT } from '../registrations/registration.routes.ts';
import { tokenParams } from '../registrations/registration.schemas.ts';
import {
  adminSessionSchema,
  changeSessionBody,
  chooseSessionsBody,
  createSessionBody,
  ownSessionsSchema,
  publicSessionSchema,
  sessionChangeResultSchema,
  sessionParams,
} from './session.schemas.ts';
import {
  changeOwnSessions,
  changeSession,
  createSession,
  listAdminSessions,
  listPublicSessions,
  removeSession,
  viewOwnSessions,
} from './session.service.ts';

export const sessionRoutes: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const security = [{ adminKey: [] }];
  const tags = ['sessions (admin)'];

  app.post(
    '/admin/meetings/:id/sessions',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Add a session (a workshop) to a meeting',
        description:
          'A session has its own capacity and waitlist and lies within the meeting (times without an offset are ' +
          'read in the meeting time zone). Attendees choose it at registration or on their manage page.',
        params: meetingIdParams,
        body: createSessionBody,
        response: { 201: adminSessionSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createSession(ctx, request.params.id, request.body)),
  );

  app.get(
    '/admin/meetings/:id/sessions',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: "A meeting's sessions with their places taken and waitlists",
        params: meetingIdParams,
        response: { 200: z.array(adminSessionSchema), ...problemResponses(...adminErrors) },
      },
    },
    async (request) => listAdminSessions(ctx, request.params.id),
  );

  app.patch(
    '/admin/meetings/:id/sessions/:sessionId',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Change a session',
        description:
          'Raising the capacity gives the free places to the longest-waiting at once ' +
          '(registration.attendee.session_place_granted each); lowering it never takes a place away.',
        params: sessionParams,
        body: changeSessionBody,
        response: { 200: sessionChangeResultSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => changeSession(ctx, request.params.id, request.params.sessionId, request.body),
  );

  app.delete(
    '/admin/meetings/:id/sessions/:sessionId',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Remove a session and every choice of it',
        params: sessionParams,
        response: {
          200: z.object({ status: z.literal('removed') }).meta({ example: { status: 'removed' } }),
          ...problemResponses(...adminErrors),
        },
      },
    },
    async (request) => {
      await removeSession(ctx, request.params.id, request.params.sessionId);
      return { status: 'removed' as const };
    },
  );

  app.get(
    '/meetings/:ref/sessions',
    {
      schema: {
        tags: ['meetings'],
        summary: "A published meeting's sessions with their free places",
        params: meetingRefParams,
        response: { 200: z.array(publicSessionSchema), ...problemResponses(400, 404) },
      },
    },
    async (request) => listPublicSessions(ctx, request.params.ref),
  );

  app.get(
    '/registrations/manage/:token/sessions',
    {
      schema: {
        tags: ['self-service'],
        summary: "The meeting's sessions and which of them you chose",
        params: tokenParams,
        response: { 200: ownSessionsSchema, ...problemResponses(400, 404) },
      },
    },
    async (request) => viewOwnSessions(ctx, request.params.token),
  );

  app.put(
    '/registrations/manage/:token/sessions',
    {
      bodyLimit: REGISTRATION_BODY_LIMIT,
      schema: {
        tags: ['self-service'],
        summary: 'Choose your sessions',
        description:
          'The sessions you want, all of them: those left out are given up and their places go to the ' +
          'longest-waiting. A full session puts you on its waitlist; two sessions at the same time answer 400. ' +
          'While you wait for a seat at the meeting your choice is kept and counts once you have one.',
        params: tokenParams,
        body: chooseSessionsBody,
        response: { 200: ownSessionsSchema, ...problemResponses(400, 404, 409, 413) },
      },
    },
    async (request) => changeOwnSessions(ctx, request.params.token, request.body.sessionIds),
  );
};
