import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Routes } from '../context.ts';
import { meetingIdParams } from '../meetings/meeting.schemas.ts';
import { adminErrors } from '../problem-responses.ts';
import { consequenceBody, consequencesSchema } from './consequence.schemas.ts';
import { previewChange } from './consequence.service.ts';

export const consequenceRoutes: Routes = async (fastify, { ctx }) => {
  const admin = fastify.requireScope('admin');
  fastify.withTypeProvider<ZodTypeProvider>().post(
    '/admin/meetings/:id/consequences',
    {
      onRequest: admin,
      schema: {
        tags: ['meetings (admin)'],
        security: [{ adminKey: [] }],
        summary: 'Preview what a change to a meeting would do',
        description:
          'A dry run: how many people a capacity change, reschedule, edit, publication or cancellation would ' +
          'mail, and how many it would promote from the waitlist, computed by the rules the change itself ' +
          'applies. Writes and announces nothing.',
        params: meetingIdParams,
        body: consequenceBody,
        response: { 200: consequencesSchema, ...problemResponses(...adminErrors) },
      },
    },
    async (request) => previewChange(ctx, request.params.id, request.body),
  );
};
