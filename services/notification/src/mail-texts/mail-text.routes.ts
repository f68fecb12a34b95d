import { type Language, languageSchema, languages } from '@citydeals/contracts';
import { HttpProblem, problemResponses } from '@citydeals/service-kit';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import type { MeetingRow } from '../read-models/meeting.repository.ts';
import { mailTextKinds, mailTextLimits, normaliseMailText } from './mail-text.rules.ts';
import {
  type Editor,
  getMailTexts,
  previewMail,
  type StoredMailTexts,
  saveMailTexts,
} from './mail-text.service.ts';

const tags = ['emails'];
const security = [{ adminKey: [] }];
const params = z.object({ id: z.uuid().describe('Meeting id') });

/** Limited after normalising, so a browser's CRLF line ends do not count twice. */
const text = (limit: number, example: string) =>
  z
    .string()
    .max(limit * 2, `Too big: expected string to have <=${limit} characters`)
    .transform(normaliseMailText)
    .pipe(z.string().max(limit))
    .describe(`Plain text, at most ${limit} characters; a blank line starts a paragraph. Empty: none.`)
    .meta({ example });

const textsBody = z
  .object({
    introduction: text(
      mailTextLimits.introduction,
      'Welkom bij de Community of Practice! Dit keer staat de jaarlijkse resultatenparade centraal.',
    ),
    practical: text(
      mailTextLimits.practical,
      'De zaal is open vanaf 12:30.\n\nParkeren kan bij het station; het is tien minuten lopen.',
    ),
  })
  .strict();

const putBody = z
  .object({
    texts: z
      .array(textsBody.extend({ language: languageSchema }).strict())
      .max(languages.length)
      .superRefine((items, check) => {
        items.forEach((item, i) => {
          if (items.findIndex((other) => other.language === item.language) !== i) {
            check.addIssue({ code: 'custom', path: [i, 'language'], message: 'given twice' });
          }
        });
      })
      .describe('The texts per language; a language left out has none afterwards.'),
  })
  .strict();

const storedSchema = z.object({
  language: languageSchema,
  introduction: z.string(),
  practical: z.string(),
  updatedAt: z.iso.datetime(),
  updatedBy: z
    .object({ id: z.string(), name: z.string() })
    .describe('Who saved them: the person through the console (`staff:<id>`), or an API key.'),
});

const textsSchema = z
  .object({
    meetingId: z.uuid(),
    meeting: z
      .object({
        title: z.string(),
        startsAt: z.iso.datetime(),
        timeZone: z.string(),
        language: languageSchema,
        status: z.string(),
      })
      .describe('The meeting as this service knows it.'),
    texts: z.array(storedSchema),
    kinds: z.array(z.enum(mailTextKinds)).describe('The mails that carry the texts.'),
    limits: z.object({ introduction: z.int(), practical: z.int() }),
  })
  .meta({
    example: {
      meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
      meeting: {
        title: 'Community of Practice City Deals',
        startsAt: '2026-11-26T12:00:00.000Z',
        timeZone: 'Europe/Amsterdam',
        language: 'nl',
        status: 'published',
      },
      texts: [
        {
          language: 'nl',
          introduction: 'Welkom bij de Community of Practice!',
          practical: 'De zaal is open vanaf 12:30.',
          updatedAt: '2026-11-20T09:12:00.000Z',
          updatedBy: {
            id: 'staff:01936b00-0000-7000-8000-000000000001',
            name: 'Rik Redacteur <rik@example.nl>',
          },
        },
      ],
      kinds: [...mailTextKinds],
      limits: mailTextLimits,
    },
  });

const previewBody = z
  .object({
    kind: z.enum(mailTextKinds).describe('Which mail.'),
    language: languageSchema.describe('In which language.'),
    texts: textsBody.optional().describe('Texts not saved yet; without them, the saved ones.'),
    name: z.string().trim().min(1).max(200).optional().describe('A name to greet instead of the sample one.'),
  })
  .strict();

const previewSchema = z
  .object({
    kind: z.enum(mailTextKinds),
    language: languageSchema,
    subject: z.string(),
    html: z.string().describe('The HTML part, exactly as it is queued.'),
    text: z.string().describe('The plain-text part, exactly as it is queued.'),
  })
  .meta({
    example: {
      kind: 'registration_confirmed',
      language: 'nl',
      subject: 'Aanmelding bevestigd: Community of Practice City Deals',
      html: '<!doctype html>…',
      text: 'Beste Voornaam Achternaam,\n\nJe aanmelding is bevestigd.\n…',
    },
  });

/** 404 naming the meeting: it is unknown until its first event has reached this service. */
const unknownMeeting = (id: string) =>
  new HttpProblem(404, 'not-found', 'Not found', `meeting ${id} does not exist here (yet)`, {
    errors: [{ field: 'params.id', message: 'no such meeting' }],
  });

function editorOf(request: FastifyRequest): Editor {
  const { staff } = request;
  if (staff) return { id: `staff:${staff.id}`, name: `${staff.name} <${staff.email}>` };
  const id = request.actor ?? 'api-key:unknown';
  return { id, name: id.replace(/^api-key:/, '') };
}

const view = (meetingId: string, { meeting, texts }: { meeting: MeetingRow; texts: StoredMailTexts[] }) => ({
  meetingId,
  meeting: {
    title: meeting.title,
    startsAt: new Date(meeting.starts_at).toISOString(),
    timeZone: meeting.time_zone,
    language: meeting.language as Language,
    status: meeting.status,
  },
  texts: texts.map((t) => ({ ...t, updatedAt: t.updatedAt.toISOString() })),
  kinds: [...mailTextKinds],
  limits: mailTextLimits,
});

/**
 * The office's texts in a meeting's standard mails (docs/mail-texts.md): read them, replace them, and see
 * the exact mail they make before saving.
 */
export const mailTextRoutes: Routes = async (app, { ctx }) => {
  app.get(
    '/admin/meetings/:id/mail-texts',
    {
      onRequest: app.requireScope('read'),
      schema: {
        tags,
        security,
        summary: "The office's texts in a meeting's mails",
        description:
          'The introduction and practical information per language, who saved them and when, the mails ' +
          'that carry them and the length limits. 404 until the meeting has reached this service.',
        params,
        response: { 200: textsSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const texts = await getMailTexts(ctx.db, request.params.id);
      if (!texts) throw unknownMeeting(request.params.id);
      return view(request.params.id, texts);
    },
  );

  app.put(
    '/admin/meetings/:id/mail-texts',
    {
      onRequest: app.requireScope('admin'),
      schema: {
        tags,
        security,
        summary: "Replace the office's texts in a meeting's mails",
        description:
          'Mails queued from now on carry them (confirmations, reminders as they fall due, change notices); ' +
          'mails already queued keep the text they were composed with. The caller is recorded as the editor.',
        params,
        body: putBody,
        response: { 200: textsSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const texts = await saveMailTexts(
        ctx.db,
        request.params.id,
        request.body.texts,
        editorOf(request),
        ctx.clock.now(),
      );
      if (!texts) throw unknownMeeting(request.params.id);
      return view(request.params.id, texts);
    },
  );

  app.post(
    '/admin/meetings/:id/mail-preview',
    {
      onRequest: app.requireScope('read'),
      schema: {
        tags,
        security,
        summary: 'Preview a standard mail of a meeting with its texts',
        description:
          'The mail an attendee would get (subject, HTML, text), composed as the mail queue composes it, ' +
          'with the given texts or the saved ones, a sample name and placeholder personal links. Writes nothing.',
        params,
        body: previewBody,
        response: { 200: previewSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { kind, language } = request.body;
      const mail = await previewMail(ctx.db, ctx.email, request.params.id, request.body);
      if (!mail) throw unknownMeeting(request.params.id);
      return { kind, language, ...mail };
    },
  );
};
