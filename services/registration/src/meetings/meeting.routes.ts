import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { adminErrors } from '../problem-responses.ts';
import {
  adminListMeetingsQuery,
  adminMeetingSchema,
  cancelMeetingBody,
  createMeetingBody,
  editMeetingBody,
  listMeetingsQuery,
  meetingIdParams,
  meetingRefParams,
  publicMeetingSchema,
  rescheduleBody,
} from './meeting.schemas.ts';
import {
  cancelMeeting,
  createMeeting,
  editMeeting,
  getAdminMeeting,
  getPublicMeeting,
  listAdminMeetings,
  listPublicMeetings,
  publishMeeting,
  rescheduleMeeting,
} from './meeting.service.ts';

export const meetingRoutes: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const security = [{ adminKey: [] }];
  const tags = ['meetings (admin)'];

  app.post(
    '/admin/meetings',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Create a meeting',
        description:
          'Creates a draft or published meeting and announces it (registration.meeting.scheduled). Times without ' +
          'an offset are read in the meeting time zone (Europe/Amsterdam by default).',
        body: createMeetingBody,
        response: { 201: adminMeetingSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request, reply) => reply.status(201).send(await createMeeting(ctx, request.body)),
  );

  app.get(
    '/admin/meetings',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'List all meetings, drafts included',
        querystring: adminListMeetingsQuery,
        response: {
          200: z.object({ items: z.array(adminMeetingSchema) }),
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request) => ({ items: await listAdminMeetings(ctx, request.query) }),
  );

  app.get(
    '/admin/meetings/:id',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Get a meeting with its address and seat counts',
        params: meetingIdParams,
        response: { 200: adminMeetingSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => getAdminMeeting(ctx, request.params.id),
  );

  app.patch(
    '/admin/meetings/:id',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Edit a meeting',
        description:
          'Changes title, slug, description, time zone, venue, online link, language, agenda, reminder offsets or ' +
          'the registration window; announces registration.meeting.updated with the changed fields. An edit that ' +
          'changes nothing announces nothing.',
        params: meetingIdParams,
        body: editMeetingBody,
        response: { 200: adminMeetingSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => editMeeting(ctx, request.params.id, request.body),
  );

  app.post(
    '/admin/meetings/:id/publish',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Publish a draft meeting',
        description: 'Opens the meeting to the public (subject to its registration window).',
        params: meetingIdParams,
        response: { 200: adminMeetingSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => publishMeeting(ctx, request.params.id),
  );

  app.post(
    '/admin/meetings/:id/reschedule',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Move a meeting to a new start and end',
        description:
          'Announces registration.meeting.rescheduled; the calendar SEQUENCE (icsSequence) grows by one.',
        params: meetingIdParams,
        body: rescheduleBody,
        response: { 200: adminMeetingSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => rescheduleMeeting(ctx, request.params.id, request.body),
  );

  app.post(
    '/admin/meetings/:id/cancel',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Cancel a meeting',
        description:
          'Closes registration and announces registration.meeting.cancelled. Cancelling twice is a no-op.',
        params: meetingIdParams,
        body: cancelMeetingBody,
        response: { 200: adminMeetingSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => cancelMeeting(ctx, request.params.id, request.body.reason),
  );

  app.get(
    '/meetings',
    {
      schema: {
        tags: ['meetings'],
        summary: 'List published meetings',
        description: 'Upcoming published meetings, soonest first; the venue address is not shown publicly.',
        querystring: listMeetingsQuery,
        response: { 200: z.object({ items: z.array(publicMeetingSchema) }), ...problemResponses(400) },
      },
    },
    async (request) => ({ items: await listPublicMeetings(ctx, request.query.includePast) }),
  );

  app.get(
    '/meetings/:ref',
    {
      schema: {
        tags: ['meetings'],
        summary: 'Get a published meeting by id or slug',
        params: meetingRefParams,
        response: { 200: publicMeetingSchema, ...problemResponses(400, 404) },
      },
    },
    async (request) => getPublicMeeting(ctx, request.params.ref),
  );
};
