import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { audit, guard, pageContext, staffOf } from '../sessions/session.plugin.ts';
import { backendFailure } from '../web/backend-failure.ts';
import { layout } from '../web/layout.ts';
import type { AdminMeeting, FieldErrors } from './meeting.views.ts';
import {
  type AdminQuestion,
  choicesOf,
  emptyQuestion,
  type QuestionFormValues,
  questionsPage,
  questionTexts,
} from './question.views.ts';

const HTML = 'text/html; charset=utf-8';
const params = z.object({ id: z.uuid() });
const questionParams = z.object({ id: z.uuid(), questionId: z.uuid() });
const text = (max: number) => z.string().max(max).default('');
const addForm = z.object({
  kind: text(40),
  required: z.literal('1').optional(),
  labelNl: text(300),
  labelEn: text(300),
  choices: text(10_000),
  _csrf: z.string().max(200).optional(),
});
const doneQuery = z.object({ done: z.enum(['added', 'removed']).optional().catch(undefined) });

/** Registration's problem fields back to the form's (`body.label.en` → `labelEn`). */
function formErrorsOf(problem: unknown): FieldErrors {
  const body = problem as { errors?: { field?: string; message?: string }[]; detail?: string } | null;
  const errors: FieldErrors = {};
  for (const e of body?.errors ?? []) {
    const [, first, second] = (e.field ?? '').split('.');
    const name =
      first === 'label' ? (second === 'en' ? 'labelEn' : 'labelNl') : first === 'kind' ? 'kind' : 'choices';
    errors[name] ??= e.message ?? 'ongeldig';
  }
  if (Object.keys(errors).length === 0) errors.labelNl = body?.detail ?? 'ongeldig';
  return errors;
}

/**
 * The questions on a meeting's registration form: listed with how many answered each, added, removed. The
 * rules (what may change once answered) are registration's; this page only shows and asks.
 */
export const questionRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const registration = <T>(
    request: FastifyRequest,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
  ) =>
    ctx.services.call<T>(staffOf(request), 'registration', method, path, body === undefined ? {} : { body });

  async function render(
    request: FastifyRequest,
    reply: FastifyReply,
    meetingId: string,
    values: QuestionFormValues,
    errors: FieldErrors,
    status: number,
    message?: string,
  ) {
    const p = pageContext(request);
    const qt = questionTexts(p.lang);
    const [meeting, questions] = await Promise.all([
      registration<AdminMeeting>(request, 'GET', `/admin/meetings/${meetingId}`),
      registration<{ items: AdminQuestion[] }>(request, 'GET', `/admin/meetings/${meetingId}/questions`),
    ]);
    for (const answer of [meeting, questions]) {
      if (answer.status !== 200) return backendFailure(reply, p, answer.status);
    }
    return reply
      .status(status)
      .type(HTML)
      .send(
        layout(
          p,
          qt.title(meeting.body.title),
          questionsPage(qt, {
            meetingId,
            questions: questions.body.items,
            csrf: p.staff?.csrfToken ?? '',
            values,
            errors,
            message,
          }),
        ),
      );
  }

  app.get(
    '/meetings/:id/questions',
    { schema: { hide: true, params, querystring: doneQuery }, preValidation: guard(ctx, 'meetings') },
    async (request, reply) => {
      const qt = questionTexts(pageContext(request).lang);
      const { done } = request.query;
      return render(request, reply, request.params.id, emptyQuestion, {}, 200, done ? qt[done] : undefined);
    },
  );

  app.post(
    '/meetings/:id/questions',
    { schema: { hide: true, params, body: addForm }, preValidation: guard(ctx, 'meetings') },
    async (request, reply) => {
      const { id } = request.params;
      const form = request.body;
      const values: QuestionFormValues = {
        kind: form.kind,
        required: form.required === '1',
        labelNl: form.labelNl,
        labelEn: form.labelEn,
        choices: form.choices,
      };
      const answer = await registration<AdminQuestion>(request, 'POST', `/admin/meetings/${id}/questions`, {
        kind: form.kind,
        required: values.required,
        label: { nl: form.labelNl, en: form.labelEn },
        choices: form.kind === 'one_choice' || form.kind === 'several_choices' ? choicesOf(form.choices) : [],
      });
      await audit(
        ctx,
        request,
        'meeting.question-add',
        answer.status === 201 ? 'ok' : 'failed',
        { status: answer.status, kind: form.kind },
        `meeting:${id}`,
      );
      if (answer.status === 201) return reply.redirect(`/meetings/${id}/questions?done=added`, 303);
      if (answer.status === 400 || answer.status === 409) {
        return render(request, reply, id, values, formErrorsOf(answer.body), 400);
      }
      return backendFailure(reply, pageContext(request), answer.status);
    },
  );

  app.post(
    '/meetings/:id/questions/:questionId/remove',
    {
      schema: {
        hide: true,
        params: questionParams,
        body: z.object({ _csrf: z.string().max(200).optional() }),
      },
      preValidation: guard(ctx, 'meetings'),
    },
    async (request, reply) => {
      const { id, questionId } = request.params;
      const answer = await registration<{ answersDeleted: number }>(
        request,
        'DELETE',
        `/admin/meetings/${id}/questions/${questionId}`,
      );
      await audit(
        ctx,
        request,
        'meeting.question-remove',
        answer.status === 200 ? 'ok' : 'failed',
        { status: answer.status, questionId, answersDeleted: answer.body?.answersDeleted },
        `meeting:${id}`,
      );
      if (answer.status === 200) return reply.redirect(`/meetings/${id}/questions?done=removed`, 303);
      return backendFailure(reply, pageContext(request), answer.status);
    },
  );
};
