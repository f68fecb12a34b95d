import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import type { Notice } from '../people/people.views.ts';
import { audit, guard, pageContext, staffOf } from '../sessions/session.plugin.ts';
import { layout } from '../web/layout.ts';
import { keysTexts } from './keys.texts.ts';
import { keyScopes, machineSystems } from './machine-key.rules.ts';
import { issueMachineKey, listMachineKeyViews, revokeMachineKey } from './machine-key.service.ts';
import { keysPage } from './machine-key.views.ts';

const HTML = 'text/html; charset=utf-8';
const issueForm = z.object({
  system: z.enum(machineSystems),
  label: z.string().trim().min(1).max(80),
  scope: z.enum(keyScopes),
  _csrf: z.string().max(200).optional(),
});

/** Machine keys (beheerder only): issue one per consuming system, see its use, revoke it everywhere. */
export const machineKeyRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const beheer = guard(ctx, 'manage-accounts');

  const show = async (request: FastifyRequest, reply: FastifyReply, message?: Notice, status = 200) => {
    const page = pageContext(request);
    const t = keysTexts(page.lang);
    const keys = await listMachineKeyViews(ctx, staffOf(request));
    return reply
      .status(status)
      .type(HTML)
      .send(layout(page, t.title, keysPage(t, keys, page.staff!.csrfToken, message)));
  };

  app.get('/keys', { schema: { hide: true }, preValidation: beheer }, (request, reply) =>
    show(request, reply),
  );

  app.post(
    '/keys',
    { schema: { hide: true, body: issueForm }, preValidation: beheer },
    async (request, reply) => {
      const t = keysTexts(request.lang);
      const { system, label, scope } = request.body;
      const result = await issueMachineKey(ctx, staffOf(request), { system, label, scopes: [scope] });
      if (!result.ok) {
        await audit(ctx, request, 'key.issue', 'failed', { system, label, scope, ...result });
        return show(
          request,
          reply,
          { kind: 'error', text: `${t.issueFailed} ${t.backends[result.failedAt]} (${result.status})` },
          502,
        );
      }
      await audit(ctx, request, 'key.issue', 'ok', { system, label, scope }, `machine-key:${result.id}`);
      // Shown in this answer only (pages are no-store); the console keeps no copy.
      return show(request, reply, { kind: 'ok', text: t.issued, secret: result.key }, 201);
    },
  );

  app.post(
    '/keys/:id/revoke',
    {
      schema: {
        hide: true,
        params: z.object({ id: z.uuid() }),
        body: z.object({ _csrf: z.string().max(200).optional() }),
      },
      preValidation: beheer,
    },
    async (request, reply) => {
      const t = keysTexts(request.lang);
      const { id } = request.params;
      const result = await revokeMachineKey(ctx, staffOf(request), id);
      if (!result.found) return reply.callNotFound();
      const ok = result.failed.length === 0;
      await audit(
        ctx,
        request,
        'key.revoke',
        ok ? 'ok' : 'failed',
        ok ? {} : { failed: result.failed },
        `machine-key:${id}`,
      );
      if (ok) return show(request, reply, { kind: 'ok', text: t.revokedNow });
      return show(
        request,
        reply,
        { kind: 'error', text: `${t.revokeFailed} ${result.failed.map((b) => t.backends[b]).join(', ')}` },
        502,
      );
    },
  );
};
