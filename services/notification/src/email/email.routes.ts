import { mailKinds } from '@citydeals/contracts';
import { problems } from '@citydeals/service-kit';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { type EmailRow, listEmails } from './email.repository.ts';
import { unsubscribePages } from './unsubscribe.page.ts';
import { resubscribe, unsubscribe, unsubscribeState } from './unsubscribe.service.ts';

const emailStatuses = ['queued', 'sent', 'failed', 'expired', 'cancelled'] as const;

const emailLogItem = z.object({
  id: z.uuid(),
  kind: z.enum(mailKinds),
  status: z.enum(emailStatuses),
  meetingId: z.uuid().nullable(),
  registrationId: z.uuid().nullable(),
  reminderOffset: z.string().nullable().meta({ example: 'P1D' }),
  recipient: z.string().nullable().describe('The address; null once the attendee is erased.'),
  subject: z.string(),
  messageId: z.string().meta({ example: '<01936c01-5f60-7172-8384-95a6b7c8d9e0@cop.citydeals.example.org>' }),
  attempts: z.int().nonnegative(),
  lastError: z.string().nullable().meta({ example: '451 4.7.1 Try again later' }),
  smtpCode: z.int().nullable().meta({ example: 451 }),
  createdAt: z.iso.datetime(),
  nextAttemptAt: z.iso.datetime().nullable().describe('When a queued mail is tried next.'),
  sentAt: z.iso.datetime().nullable(),
  failedAt: z.iso.datetime().nullable(),
});

const exampleItem: z.input<typeof emailLogItem> = {
  id: '01936c01-5f60-7172-8384-95a6b7c8d9e0',
  kind: 'reminder',
  status: 'sent',
  meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
  registrationId: '01936b2c-1a2b-7d4e-8f60-718293a4b5c6',
  reminderOffset: 'P1D',
  recipient: 'sanne.devries@example.org',
  subject: 'Herinnering: Community of Practice City Deals is morgen',
  messageId: '<01936c01-5f60-7172-8384-95a6b7c8d9e0@cop.citydeals.example.org>',
  attempts: 1,
  lastError: null,
  smtpCode: null,
  createdAt: '2023-11-22T12:00:00.000Z',
  nextAttemptAt: null,
  sentAt: '2023-11-22T12:00:01.000Z',
  failedAt: null,
};

function toItem(row: EmailRow): z.input<typeof emailLogItem> {
  const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    meetingId: row.meeting_id,
    registrationId: row.registration_id,
    reminderOffset: row.reminder_offset,
    recipient: row.recipient,
    subject: row.subject,
    messageId: row.message_id,
    attempts: row.attempts,
    lastError: row.last_error,
    smtpCode: row.smtp_code,
    createdAt: new Date(row.created_at).toISOString(),
    nextAttemptAt: row.status === 'queued' ? iso(row.next_attempt_at) : null,
    sentAt: iso(row.sent_at),
    failedAt: iso(row.failed_at),
  };
}

const cursorSchema = z
  .string()
  .max(200)
  .describe('`nextCursor` of the previous page.')
  .transform((value, ctx) => {
    const [createdAt, id] = Buffer.from(value, 'base64url').toString('utf8').split('|');
    const parsed = z.object({ createdAt: z.iso.datetime(), id: z.uuid() }).safeParse({ createdAt, id });
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: 'not a cursor returned by this API' });
      return z.NEVER;
    }
    return { createdAt: new Date(parsed.data.createdAt), id: parsed.data.id };
  });

/** Delivery log for operators and the one-click unsubscribe endpoint for mail clients. */
export const emailRoutes: Routes = async (app, options) => {
  const { db, email: ctx } = options.ctx;

  app.get(
    '/emails',
    {
      onRequest: app.requireScope('admin'),
      schema: {
        tags: ['emails'],
        summary: 'Delivery log: every mail with recipient, kind, status, attempts and last error',
        description:
          'Newest first. Filter by meeting, registration or recipient address; page with `cursor`. After an ' +
          'attendee is erased their rows remain without an address.',
        security: [{ adminKey: [] }],
        querystring: z.object({
          meetingId: z.uuid().optional().meta({ example: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192' }),
          registrationId: z.uuid().optional(),
          recipient: z.email().optional().meta({ example: 'sanne.devries@example.org' }),
          kind: z.enum(mailKinds).optional(),
          status: z.enum(emailStatuses).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          cursor: cursorSchema.optional(),
        }),
        response: {
          200: z
            .object({ items: z.array(emailLogItem), nextCursor: z.string().nullable() })
            .meta({ example: { items: [exampleItem], nextCursor: null } }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await listEmails(db, {
        meetingId: q.meetingId,
        registrationId: q.registrationId,
        recipient: q.recipient,
        kind: q.kind,
        status: q.status,
        before: q.cursor,
        limit: q.limit,
      });
      const last = rows.at(-1);
      return {
        items: rows.map(toItem),
        nextCursor:
          rows.length === q.limit && last
            ? Buffer.from(`${new Date(last.created_at).toISOString()}|${last.id}`).toString('base64url')
            : null,
      };
    },
  );

  // RFC 8058 clients POST "List-Unsubscribe=One-Click" as a form; the body carries nothing we need.
  app.addContentTypeParser(
    ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'],
    { parseAs: 'string', bodyLimit: 4096 },
    (_request, _body, done) => done(null, undefined),
  );

  const tokenParams = z.object({
    token: z
      .string()
      .min(10)
      .max(200)
      .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _, - and .')
      .meta({
        example: '01936b2c-1a2b-7d4e-8f60-718293a4b5c6.q3Vx9Lk2TzR8bWfN0cYhPaq3Vx9Lk2TzR8bWfN0cYhP',
      }),
  });
  const langQuery = z.object({ lang: z.enum(['nl', 'en']).optional().describe('Page language') });
  const html = (description: string) => ({
    description,
    content: { 'text/html': { schema: z.string().meta({ example: '<!doctype html><html lang="nl">…' }) } },
  });
  const HTML = 'text/html; charset=utf-8';
  /** A browser posting the page's form wants a page back; a mail client's one-click POST gets JSON. */
  const wantsHtml = (accept: string | undefined) => /\btext\/html\b/.test(accept ?? '');

  app.get(
    '/unsubscribe/:token',
    {
      schema: {
        tags: ['emails'],
        summary: 'The page behind the unsubscribe link in a reminder mail: one button',
        description:
          'Opening the link changes nothing (mail scanners follow links); the button posts to the one-click ' +
          'address below. Answers in the attendee language unless `lang` says otherwise.',
        security: [],
        params: tokenParams,
        querystring: langQuery,
        response: { 200: html('The page with the button'), 404: html('Not a valid link') },
      },
    },
    async (request, reply) => {
      const state = await unsubscribeState(db, ctx, request.params.token);
      const lang = request.query.lang ?? state?.language ?? 'nl';
      if (!state) return reply.status(404).type(HTML).send(unsubscribePages.unknown(lang));
      const path = `/unsubscribe/${request.params.token}`;
      return reply
        .type(HTML)
        .send(
          state.unsubscribed
            ? unsubscribePages.done(lang, `${path}/resubscribe`)
            : unsubscribePages.ask(lang, path),
        );
    },
  );

  app.post(
    '/unsubscribe/:token',
    {
      schema: {
        tags: ['emails'],
        summary: 'One-click unsubscribe from reminders (RFC 8058)',
        description:
          'The target of the List-Unsubscribe header of reminders and office messages, and of the button on the ' +
          'page above. Needs no cookie or key: the token in the path is the authorisation. Stops reminders and ' +
          'office messages to the address; confirmations and change mails are still sent. Repeating it answers 200 again. A request that ' +
          "accepts text/html (the page's button) gets a page back, with a button to undo it.",
        security: [],
        params: tokenParams,
        response: {
          200: {
            description: 'Unsubscribed',
            content: {
              'application/json': {
                schema: z
                  .object({ status: z.literal('unsubscribed') })
                  .meta({ example: { status: 'unsubscribed' } }),
              },
              'text/html': { schema: z.string() },
            },
          },
          404: html('Not a valid link (a browser); other clients get a problem'),
        },
      },
    },
    async (request, reply) => {
      const result = await unsubscribe(db, ctx, request.params.token);
      if (wantsHtml(request.headers.accept)) {
        const state = await unsubscribeState(db, ctx, request.params.token);
        const lang = state?.language ?? 'nl';
        if (result === 'invalid-token')
          return reply.status(404).type(HTML).send(unsubscribePages.unknown(lang));
        return reply
          .type(HTML)
          .send(unsubscribePages.done(lang, `/unsubscribe/${request.params.token}/resubscribe`));
      }
      if (result === 'invalid-token') throw problems.notFound('this unsubscribe link');
      return reply.type('application/json').send({ status: 'unsubscribed' as const });
    },
  );

  app.post(
    '/unsubscribe/:token/resubscribe',
    {
      schema: {
        tags: ['emails'],
        summary: 'Undo an unsubscribe: reminders go out to the address again',
        description: 'The second button of the unsubscribe page. The token in the path is the authorisation.',
        security: [],
        params: tokenParams,
        response: { 200: html('Reminders are on again'), 404: html('Not a valid link') },
      },
    },
    async (request, reply) => {
      const result = await resubscribe(db, ctx, request.params.token);
      const lang = (await unsubscribeState(db, ctx, request.params.token))?.language ?? 'nl';
      if (result === 'invalid-token')
        return reply.status(404).type(HTML).send(unsubscribePages.unknown(lang));
      return reply.type(HTML).send(unsubscribePages.back(lang));
    },
  );
};
