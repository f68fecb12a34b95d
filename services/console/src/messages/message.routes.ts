import { attendeeRoles } from '@citydeals/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { may } from '../accounts/account.rules.ts';
import type { Routes } from '../context.ts';
import type { FieldErrors } from '../meetings/meeting.views.ts';
import { audit, guard, pageContext, staffOf } from '../sessions/session.plugin.ts';
import { backendFailure } from '../web/backend-failure.ts';
import { html } from '../web/html.ts';
import { layout } from '../web/layout.ts';
import {
  emptyMessage,
  type MessageFormValues,
  messageBodyOf,
  messageErrorsOf,
  messageValuesOf,
  writtenLanguages,
} from './message.rules.ts';
import {
  type MessagePreview,
  messageForm,
  messageList,
  messagePreviews,
  messageTexts,
  type SentMessage,
} from './message.views.ts';

const params = z.object({ id: z.uuid() });
// Loose: the statuses, deals and roles ticked are fields of their own (message.rules.ts reads them).
const messageForm_ = z.looseObject({
  action: z.enum(['preview', 'send']).default('preview'),
  _csrf: z.string().max(200).optional(),
});

/**
 * Messages to a meeting's attendees (docs/messages.md): composed here, previewed by notification (the mail
 * exactly as it goes out), sent or scheduled by registration, which picks the recipients and keeps the list.
 * The read-only role sees the list (registration's `read` scope); only the editing roles compose and send.
 */
export const messageRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  /** The meeting's title and zone: the admin view for the editing roles, the public one for the lezer. */
  const meetingOf = async (request: FastifyRequest, id: string) => {
    const admin = may(staffOf(request).role, 'messages');
    return ctx.services.call<{ title: string; timeZone: string }>(
      staffOf(request),
      'registration',
      'GET',
      admin ? `/admin/meetings/${id}` : `/meetings/${id}`,
    );
  };

  const show = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    compose: { values: MessageFormValues; errors: FieldErrors; previews?: MessagePreview[]; notice?: string },
    status = 200,
  ) => {
    const page = pageContext(request);
    const w = messageTexts(page.lang);
    const staff = staffOf(request);
    const mayCompose = may(staff.role, 'messages');
    const [meeting, messages, deals] = await Promise.all([
      meetingOf(request, id),
      ctx.services.call<{ items: SentMessage[] }>(
        staff,
        'registration',
        'GET',
        `/admin/meetings/${id}/messages`,
      ),
      mayCompose
        ? ctx.services.call<{ items: { id: string; name: string }[] }>(staff, 'registration', 'GET', '/deals')
        : Promise.resolve({ status: 200, body: { items: [] } }),
    ]);
    for (const answer of [meeting, messages, deals]) {
      if (answer.status !== 200) return backendFailure(reply, page, answer.status);
    }
    const { title, timeZone } = meeting.body;
    const body = html`${compose.notice ? html`<p role="status" class="ok">${compose.notice}</p>` : ''}
<p><strong>${title}</strong>${mayCompose ? html` · <a href="/meetings/${id}">${w.back}</a>` : ''}</p>
${compose.previews ? messagePreviews(page.lang, compose.previews) : ''}
${
  mayCompose
    ? html`<section aria-labelledby="compose-title">
<h2 id="compose-title">${w.compose}</h2>
${messageForm(page.lang, {
  action: `/meetings/${id}/messages`,
  csrf: page.staff!.csrfToken,
  values: compose.values,
  errors: compose.errors,
  deals: deals.body.items,
  roles: attendeeRoles,
})}
</section>`
    : ''
}
<section aria-labelledby="messages-title">
<h2 id="messages-title">${w.list}</h2>
${messageList(page.lang, messages.body.items, timeZone)}
</section>`;
    return reply
      .status(status)
      .type('text/html; charset=utf-8')
      .send(layout(page, w.title, body));
  };

  app.get(
    '/meetings/:id/messages',
    {
      schema: {
        hide: true,
        params,
        querystring: z.object({ sent: z.literal('1').optional().catch(undefined) }),
      },
      preValidation: guard(ctx, 'view'),
    },
    async (request, reply) => {
      const w = messageTexts(pageContext(request).lang);
      return show(request, reply, request.params.id, {
        values: emptyMessage(ctx.newId()),
        errors: {},
        ...(request.query.sent ? { notice: w.sent } : {}),
      });
    },
  );

  app.post(
    '/meetings/:id/messages',
    { schema: { hide: true, params, body: messageForm_ }, preValidation: guard(ctx, 'messages') },
    async (request, reply) => {
      const { id } = request.params;
      const staff = staffOf(request);
      const page = pageContext(request);
      const values = messageValuesOf(request.body, attendeeRoles);
      if (!values.id) values.id = ctx.newId();

      if (request.body.action === 'preview') {
        const languages = writtenLanguages(values);
        if (languages.length === 0) {
          const errors = { texts: messageTexts(page.lang).writeSomething };
          return show(request, reply, id, { values, errors }, 400);
        }
        const previews: MessagePreview[] = [];
        for (const language of languages) {
          const answer = await ctx.services.call<MessagePreview>(
            staff,
            'notification',
            'POST',
            `/admin/meetings/${id}/message-preview`,
            { body: { language, ...values.texts[language] } },
          );
          if (answer.status === 400) {
            return show(request, reply, id, { values, errors: messageErrorsOf(answer.body, language) }, 400);
          }
          if (answer.status === 404) {
            const notYet = messageTexts(page.lang).notYet;
            return show(request, reply, id, { values, errors: {}, notice: notYet }, 409);
          }
          if (answer.status !== 200) return backendFailure(reply, page, answer.status);
          previews.push(answer.body);
        }
        return show(request, reply, id, { values, errors: {}, previews });
      }

      const meeting = await meetingOf(request, id);
      if (meeting.status !== 200) return backendFailure(reply, page, meeting.status);
      const answer = await ctx.services.call<SentMessage>(
        staff,
        'registration',
        'POST',
        `/admin/meetings/${id}/messages`,
        { body: messageBodyOf(values, meeting.body.timeZone) },
      );
      const ok = answer.status === 201 || answer.status === 200;
      await audit(
        ctx,
        request,
        'meeting.message',
        ok ? 'ok' : 'failed',
        { status: answer.status, statuses: values.statuses, languages: writtenLanguages(values) },
        ok ? `message:${answer.body.id}` : `meeting:${id}`,
      );
      if (ok) return reply.redirect(`/meetings/${id}/messages?sent=1`, 303);
      if (answer.status === 400) {
        return show(request, reply, id, { values, errors: messageErrorsOf(answer.body) }, 400);
      }
      return backendFailure(reply, page, answer.status);
    },
  );
};
