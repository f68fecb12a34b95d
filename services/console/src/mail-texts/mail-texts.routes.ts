import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { may } from '../accounts/account.rules.ts';
import type { Routes } from '../context.ts';
import { audit, CONTENT_SECURITY_POLICY, guard, pageContext, staffOf } from '../sessions/session.plugin.ts';
import { backendFailure } from '../web/backend-failure.ts';
import { layout } from '../web/layout.ts';
import { mailTextTexts } from './mail-texts.texts.ts';
import {
  type FieldErrors,
  type MailPreview,
  type MailTextsAnswer,
  mailTextsPage,
  savedValues,
  type TextField,
  type TextValues,
  textLanguages,
  textParts,
} from './mail-texts.views.ts';

const HTML = 'text/html; charset=utf-8';
const params = z.object({ id: z.uuid() });
// Generous here: notification holds the limits and names the field that breaks one.
const text = z.string().max(20_000).default('');
const formBody = z.object({
  nl_introduction: text,
  nl_practical: text,
  en_introduction: text,
  en_practical: text,
  kind: z.string().max(40).default('registration_confirmed'),
  language: z.string().max(5).default('nl'),
  _csrf: z.string().max(200).optional(),
});
type FormBody = z.infer<typeof formBody>;
const pageQuery = z.object({ done: z.literal('1').optional().catch(undefined) });

/**
 * The preview's frame shows the mail's own HTML, whose layout is style attributes: this one answer lets style
 * attributes through (never style elements or scripts; every value on the page is escaped, and the frame is
 * sandboxed, so nothing in it runs).
 */
const PREVIEW_POLICY = `${CONTENT_SECURITY_POLICY}; style-src-attr 'unsafe-inline'`;

const valuesOf = (body: FormBody): TextValues => ({
  nl_introduction: body.nl_introduction,
  nl_practical: body.nl_practical,
  en_introduction: body.en_introduction,
  en_practical: body.en_practical,
});

const isTextLanguage = (language: string) => (textLanguages as readonly string[]).includes(language);

/** Notification's problem answer as messages beside the form's fields. */
function fieldErrorsOf(problem: unknown, languageOf: (index: number) => string): FieldErrors {
  const body = problem as { errors?: { field?: string; message?: string }[]; detail?: string } | null;
  const errors: FieldErrors = {};
  for (const e of body?.errors ?? []) {
    const path = (e.field ?? '').split('.');
    const message = e.message ?? 'ongeldig';
    if (path[1] === 'kind' || path[1] === 'language') errors[path[1]] ??= message;
    else if (path[1] === 'texts') {
      // `body.texts.0.introduction` (saving both languages) or `body.texts.introduction` (a preview).
      const indexed = /^\d+$/.test(path[2] ?? '');
      const language = languageOf(indexed ? Number(path[2]) : -1);
      const part = indexed ? path[3] : path[2];
      const name = `${language}_${part}`;
      if (isTextLanguage(language) && (textParts as readonly string[]).includes(part ?? '')) {
        errors[name as TextField] ??= message;
      } else errors.kind ??= message;
    }
  }
  if (Object.keys(errors).length === 0) errors.kind = body?.detail ?? 'ongeldig';
  return errors;
}

/**
 * The office's texts in a meeting's standard mails, through notification's API (docs/mail-texts.md): read by
 * anyone who may view, saved by those who may change meetings, previewed as the exact mail before saving.
 */
export const mailTextRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const notification = <T>(
    request: FastifyRequest,
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
  ) =>
    ctx.services.call<T>(staffOf(request), 'notification', method, path, body === undefined ? {} : { body });
  const load = (request: FastifyRequest, id: string) =>
    notification<MailTextsAnswer>(request, 'GET', `/admin/meetings/${id}/mail-texts`);

  const render = (
    request: FastifyRequest,
    reply: FastifyReply,
    answer: MailTextsAnswer,
    form: { values: TextValues; errors: FieldErrors; choice: { kind: string; language: string } },
    extra: { preview?: MailPreview; message?: string; status?: number } = {},
  ) => {
    const p = pageContext(request);
    const mx = mailTextTexts(p.lang);
    if (extra.preview) reply.header('content-security-policy', PREVIEW_POLICY);
    return reply
      .status(extra.status ?? 200)
      .type(HTML)
      .send(
        layout(
          p,
          mx.title(answer.meeting.title),
          mailTextsPage(mx, {
            answer,
            ...form,
            csrf: p.staff?.csrfToken ?? '',
            mayEdit: may(staffOf(request).role, 'meetings'),
            preview: extra.preview,
            message: extra.message,
          }),
        ),
      );
  };

  app.get(
    '/meetings/:id/mail-texts',
    { schema: { hide: true, params, querystring: pageQuery }, preValidation: guard(ctx, 'view') },
    async (request, reply) => {
      const answer = await load(request, request.params.id);
      if (answer.status !== 200) return backendFailure(reply, pageContext(request), answer.status);
      const mx = mailTextTexts(request.lang);
      return render(
        request,
        reply,
        answer.body,
        {
          values: savedValues(answer.body),
          errors: {},
          choice: { kind: 'registration_confirmed', language: answer.body.meeting.language },
        },
        request.query.done ? { message: mx.saved } : {},
      );
    },
  );

  app.post(
    '/meetings/:id/mail-texts/preview',
    { schema: { hide: true, params, body: formBody }, preValidation: guard(ctx, 'view') },
    async (request, reply) => {
      const { id } = request.params;
      const body = request.body;
      const values = valuesOf(body);
      const choice = { kind: body.kind, language: body.language };
      const answer = await load(request, id);
      if (answer.status !== 200) return backendFailure(reply, pageContext(request), answer.status);
      const language = isTextLanguage(body.language) ? (body.language as 'nl' | 'en') : 'nl';
      const preview = await notification<MailPreview>(request, 'POST', `/admin/meetings/${id}/mail-preview`, {
        kind: body.kind,
        language: body.language,
        texts: {
          introduction: values[`${language}_introduction`],
          practical: values[`${language}_practical`],
        },
      });
      if (preview.status === 400) {
        const errors = fieldErrorsOf(preview.body, () => language);
        return render(request, reply, answer.body, { values, errors, choice }, { status: 400 });
      }
      if (preview.status !== 200) return backendFailure(reply, pageContext(request), preview.status);
      return render(request, reply, answer.body, { values, errors: {}, choice }, { preview: preview.body });
    },
  );

  app.post(
    '/meetings/:id/mail-texts',
    { schema: { hide: true, params, body: formBody }, preValidation: guard(ctx, 'meetings') },
    async (request, reply) => {
      const { id } = request.params;
      const values = valuesOf(request.body);
      const texts = textLanguages.map((language) => ({
        language,
        introduction: values[`${language}_introduction`],
        practical: values[`${language}_practical`],
      }));
      const saved = await notification<MailTextsAnswer>(request, 'PUT', `/admin/meetings/${id}/mail-texts`, {
        texts,
      });
      await audit(
        ctx,
        request,
        'meeting.mail-texts',
        saved.status === 200 ? 'ok' : 'failed',
        { status: saved.status },
        `meeting:${id}`,
      );
      if (saved.status === 200) return reply.redirect(`/meetings/${id}/mail-texts?done=1`, 303);
      if (saved.status !== 400) return backendFailure(reply, pageContext(request), saved.status);
      const answer = await load(request, id);
      if (answer.status !== 200) return backendFailure(reply, pageContext(request), answer.status);
      const errors = fieldErrorsOf(saved.body, (i) => texts[i]?.language ?? '');
      const choice = { kind: request.body.kind, language: request.body.language };
      return render(request, reply, answer.body, { values, errors, choice }, { status: 400 });
    },
  );
};
