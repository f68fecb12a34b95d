import { dealPhaseSchema } from '@citydeals/contracts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { may } from '../accounts/account.rules.ts';
import type { Routes } from '../context.ts';
import { audit, guard, pageContext, staffOf } from '../sessions/session.plugin.ts';
import { backendFailure } from '../web/backend-failure.ts';
import { html as htmlOf } from '../web/html.ts';
import { layout } from '../web/layout.ts';
import { type DealSummary, dealList, dealPage, type HistoryItem } from './deal.views.ts';
import { type BoardDeal, boardTexts, dealBoard, dealViews } from './deal-board.views.ts';

const dealParams = z.object({ id: z.uuid() });
const transitionForm = z.object({
  to: dealPhaseSchema,
  reason: z.string().trim().min(1).max(2000),
  version: z.coerce.number().int().min(1),
  _csrf: z.string().max(200).optional(),
});

export const dealRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const html = 'text/html; charset=utf-8';

  app.get('/deals', { schema: { hide: true }, preValidation: guard(ctx, 'view') }, async (request, reply) => {
    const page = pageContext(request);
    const answer = await ctx.services.call<{ items: DealSummary[] }>(
      staffOf(request),
      'dealTracking',
      'GET',
      '/deals?limit=500',
    );
    if (answer.status !== 200) return backendFailure(reply, page, answer.status);
    const body = htmlOf`${dealViews(page.lang, 'list')}${dealList(page.t, answer.body.items)}`;
    return reply.type(html).send(layout(page, page.t.deals, body));
  });

  // The same one list call as the list: the board is another picture of it, never a call per phase or deal.
  app.get(
    '/deals/board',
    { schema: { hide: true }, preValidation: guard(ctx, 'view') },
    async (request, reply) => {
      const page = pageContext(request);
      const answer = await ctx.services.call<{ items: BoardDeal[] }>(
        staffOf(request),
        'dealTracking',
        'GET',
        '/deals?limit=500',
      );
      if (answer.status !== 200) return backendFailure(reply, page, answer.status);
      const body = htmlOf`${dealViews(page.lang, 'board')}${dealBoard(page.t, page.lang, answer.body.items)}`;
      const title = `${page.t.deals}: ${boardTexts(page.lang).board}`;
      return reply.type(html).send(layout(page, title, body));
    },
  );

  const showDeal = async (
    request: Parameters<typeof pageContext>[0],
    reply: Parameters<typeof backendFailure>[0],
    id: string,
    message?: { kind: 'ok' | 'error'; text: string },
    status = 200,
  ) => {
    const page = pageContext(request);
    const staff = staffOf(request);
    const [deal, history] = await Promise.all([
      ctx.services.call<DealSummary>(staff, 'dealTracking', 'GET', `/deals/${id}`),
      ctx.services.call<{ items: HistoryItem[] }>(staff, 'dealTracking', 'GET', `/deals/${id}/history`),
    ]);
    if (deal.status !== 200) return backendFailure(reply, page, deal.status);
    if (history.status !== 200) return backendFailure(reply, page, history.status);
    const form = may(staff.role, 'edit-deals') ? { csrfToken: page.staff!.csrfToken } : null;
    return reply
      .status(status)
      .type(html)
      .send(layout(page, deal.body.name, dealPage(page.t, deal.body, history.body.items, form, message)));
  };

  app.get(
    '/deals/:id',
    {
      schema: { hide: true, params: dealParams, querystring: z.object({ moved: z.literal('1').optional() }) },
      preValidation: guard(ctx, 'view'),
    },
    async (request, reply) => {
      const { t } = pageContext(request);
      const message = request.query.moved ? { kind: 'ok' as const, text: t.moved } : undefined;
      return showDeal(request, reply, request.params.id, message);
    },
  );

  app.post(
    '/deals/:id/transitions',
    {
      schema: { hide: true, params: dealParams, body: transitionForm },
      preValidation: guard(ctx, 'edit-deals'),
    },
    async (request, reply) => {
      const { id } = request.params;
      const { to, reason, version } = request.body;
      const answer = await ctx.services.call(
        staffOf(request),
        'dealTracking',
        'POST',
        `/deals/${id}/transitions`,
        {
          body: { to, reason },
          headers: { 'if-match': `"${version}"` },
        },
      );
      const outcome = answer.status === 200 ? 'ok' : 'failed';
      await audit(
        ctx,
        request,
        'deal.transition',
        outcome,
        { to, reason, status: answer.status },
        `deal:${id}`,
      );
      if (answer.status === 200) return reply.redirect(`/deals/${id}?moved=1`, 303);
      const { t } = pageContext(request);
      if (answer.status === 409 || answer.status === 412) {
        return showDeal(request, reply, id, { kind: 'error', text: t.changedMeanwhile }, 409);
      }
      return backendFailure(reply, pageContext(request), answer.status);
    },
  );
};
