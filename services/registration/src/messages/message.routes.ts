import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { meetingIdParams } from '../meetings/meeting.schemas.ts';
import { adminErrors } from '../problem-responses.ts';
import { messageBody, messageSchema } from './message.schemas.ts';
import { createMessage, meetingMessages } from './message.service.ts';

export const messageRoutes: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
  // The list names no attendee (filters, texts, counts, the staff member who wrote it): read-only staff and
  // read keys may see what went out.
  const read = fastify.requireScope('read');
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const security = [{ adminKey: [] }];
  const tags = ['messages (admin)'];

  app.post(
    '/admin/meetings/:id/messages',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Send a message to the attendees of a meeting',
        description:
          'Mails a free text (Dutch, English or both) to the attendees in the given statuses, optionally only ' +
          'those of some deals or roles, at once or at `sendAt`. The mail goes through the notification ' +
          "service's queue (logged, retried, once per attendee; none to an erased attendee or a suppressed " +
          'address). Preview the exact mail with the notification service (POST /admin/meetings/{id}/' +
          'message-preview). 201 with the message; 200 when a message with this `id` was sent already.',
        params: meetingIdParams,
        body: messageBody,
        response: { 200: messageSchema, 201: messageSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request, reply) => {
      const { message, created } = await createMessage(
        ctx,
        request.params.id,
        request.body,
        request.actor ?? 'unknown',
      );
      return reply.status(created ? 201 : 200).send(message);
    },
  );

  app.get(
    '/admin/meetings/:id/messages',
    {
      onRequest: read,
      schema: {
        tags,
        security,
        summary: 'Messages of a meeting, sent and scheduled',
        params: meetingIdParams,
        response: { 200: z.object({ items: z.array(messageSchema) }), ...problemResponses(...adminErrors) },
      },
    },
    async (request) => ({ items: await meetingMessages(ctx, request.params.id) }),
  );
};
