import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { meetingIdParams } from '../meetings/meeting.schemas.ts';
import { adminErrors } from '../problem-responses.ts';
import { doorOrAdmin, meetingOfParams, meetingOfRegistration } from './door-access.ts';
import { adminListQuery, adminRegistrationSchema, registrationIdParams } from './registration.schemas.ts';
import {
  cancelRegistration,
  checkIn,
  getAdminRegistration,
  listAdminRegistrations,
  markNoShow,
} from './registration.service.ts';

export const registrationAdminRoutes: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const security = [{ adminKey: [] }];
  const tags = ['registrations (admin)'];
  const doorForMeeting = doorOrAdmin(ctx, admin, meetingOfParams);
  const doorForRegistration = doorOrAdmin(ctx, admin, meetingOfRegistration(ctx));

  app.get(
    '/admin/meetings/:id/registrations',
    {
      onRequest: doorForMeeting,
      schema: {
        tags,
        security,
        summary: 'List the registrations of a meeting',
        description:
          'In arrival order; filter by status, role, deal or a search text. Also open to a door staff token ' +
          '(scope `door`) on the day the meeting is held.',
        params: meetingIdParams,
        querystring: adminListQuery,
        response: {
          200: z.object({ items: z.array(adminRegistrationSchema) }),
          ...problemResponses(...adminErrors),
        },
      },
    },
    async (request) => {
      const { q, ...rest } = request.query;
      return { items: await listAdminRegistrations(ctx, request.params.id, { ...rest, search: q }) };
    },
  );

  app.get(
    '/admin/registrations/:id',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Get one registration',
        params: registrationIdParams,
        response: { 200: adminRegistrationSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => getAdminRegistration(ctx, request.params.id),
  );

  app.post(
    '/admin/registrations/:id/check-in',
    {
      onRequest: doorForRegistration,
      schema: {
        tags,
        security,
        summary: 'Check an attendee in at the door',
        description:
          'Confirmed (or earlier marked no-show) registrations only; announces registration.attendee.checked_in. ' +
          'Checking in twice is a no-op. Also open to a door staff token (scope `door`) on the day the meeting ' +
          'is held.',
        params: registrationIdParams,
        response: { 200: adminRegistrationSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => checkIn(ctx, request.params.id),
  );

  app.post(
    '/admin/registrations/:id/no-show',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Mark a confirmed attendee as no-show',
        description: 'Only once the meeting has started. The seat is not given to anyone else.',
        params: registrationIdParams,
        response: { 200: adminRegistrationSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => markNoShow(ctx, request.params.id),
  );

  app.post(
    '/admin/registrations/:id/cancel',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Cancel a registration on behalf of the attendee',
        description: 'As the attendee’s own cancellation, recorded as cancelled by an admin.',
        params: registrationIdParams,
        response: {
          200: z
            .object({
              status: z.literal('cancelled'),
              promoted: z.array(z.object({ registrationId: z.uuid(), previousPosition: z.int() })),
            })
            .meta({ example: { status: 'cancelled', promoted: [] } }),
          ...problemResponses(...adminErrors),
        },
      },
    },
    async (request) => cancelRegistration(ctx, request.params.id, 'admin'),
  );
};
