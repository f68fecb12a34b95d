import { languageSchema } from '@citydeals/contracts';
import { problemResponses, problems } from '@citydeals/service-kit';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { previewMessage } from './message.service.ts';

const previewBody = z.object({
  language: languageSchema.describe('Which of the texts to show.'),
  subject: z.string().trim().min(1).max(200).meta({ example: 'Praktische informatie voor donderdag' }),
  body: z
    .string()
    .trim()
    .min(1)
    .max(20_000)
    .meta({ example: 'Beste deelnemers,\n\nDe zaal is open vanaf 12:30.' }),
  name: z.string().trim().min(1).max(200).optional().describe('A name to greet instead of the sample one.'),
});

const previewSchema = z
  .object({
    language: languageSchema,
    subject: z.string(),
    html: z.string().describe('The HTML part, exactly as it is sent.'),
    text: z.string().describe('The plain-text part, exactly as it is sent.'),
  })
  .meta({
    example: {
      language: 'nl',
      subject: 'Praktische informatie voor donderdag',
      html: '<!doctype html>…',
      text: 'Beste Voornaam Achternaam,\n\nDe zaal is open vanaf 12:30.\n…',
    },
  });

/** The preview of an office message (registration sends it: POST /admin/meetings/{id}/messages there). */
export const messageRoutes: Routes = async (app, { ctx }) => {
  app.post(
    '/admin/meetings/:id/message-preview',
    {
      onRequest: app.requireScope('admin'),
      schema: {
        tags: ['emails'],
        security: [{ adminKey: [] }],
        summary: 'Preview a message to the attendees of a meeting',
        description:
          'Renders the mail an attendee gets for this text, in HTML and plain text, exactly as it would be ' +
          'queued, with a sample name and placeholder personal links. Writes nothing. 404 until the meeting ' +
          'has reached this service.',
        params: z.object({ id: z.uuid().describe('Meeting id') }),
        body: previewBody,
        response: { 200: previewSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const preview = await previewMessage(ctx.db, ctx.email, request.params.id, request.body);
      if (!preview) throw problems.notFound(`meeting ${request.params.id}`);
      return preview;
    },
  );
};
