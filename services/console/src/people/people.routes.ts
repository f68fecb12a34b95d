import { staffRoles } from '@citydeals/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listAccounts } from '../accounts/account.repository.ts';
import { newAccountSchema } from '../accounts/account.service.ts';
import type { Routes } from '../context.ts';
import { audit, guard, pageContext, staffOf } from '../sessions/session.plugin.ts';
import { layout } from '../web/layout.ts';
import type { AccountChange } from './people.rules.ts';
import { addPerson, changePerson } from './people.service.ts';
import { peopleTexts } from './people.texts.ts';
import { type Notice, peoplePage } from './people.views.ts';

const HTML = 'text/html; charset=utf-8';
const csrfField = { _csrf: z.string().max(200).optional() };
const idParams = z.object({ id: z.uuid() });
// Validated in the handler, so a wrong field is shown on the page rather than as a bare 400.
const addForm = z.object({
  name: z.string().max(1000),
  email: z.string().max(1000),
  role: z.string().max(50),
  ...csrfField,
});
const roleForm = z.object({ role: z.enum(staffRoles), ...csrfField });

/** People (beheerder only): the accounts, their roles, disabling one. Every change is audited. */
export const peopleRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const beheer = guard(ctx, 'manage-accounts');

  const show = async (request: FastifyRequest, reply: FastifyReply, message?: Notice, status = 200) => {
    const page = pageContext(request);
    const t = peopleTexts(page.lang);
    const people = await listAccounts(ctx.db);
    return reply
      .status(status)
      .type(HTML)
      .send(layout(page, t.title, peoplePage(t, people, page.staff!.csrfToken, ctx.clock.now(), message)));
  };

  app.get('/people', { schema: { hide: true }, preValidation: beheer }, (request, reply) =>
    show(request, reply),
  );

  app.post(
    '/people',
    { schema: { hide: true, body: addForm }, preValidation: beheer },
    async (request, reply) => {
      const t = peopleTexts(request.lang);
      const parsed = newAccountSchema.omit({ password: true }).safeParse(request.body);
      if (!parsed.success) {
        const fields = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
        return show(request, reply, { kind: 'error', text: `${t.invalid} ${fields}` }, 400);
      }
      try {
        const { account, password } = await addPerson(ctx, parsed.data);
        await audit(
          ctx,
          request,
          'account.create',
          'ok',
          { email: account.email, role: account.role },
          `account:${account.id}`,
        );
        // The password is in this answer only (no-store, like every page): not in a redirect, not in a log.
        return show(request, reply, { kind: 'ok', text: t.created, secret: password }, 201);
      } catch (err) {
        if ((err as { code?: string }).code !== '23505') throw err;
        await audit(ctx, request, 'account.create', 'failed', { email: parsed.data.email, why: 'exists' });
        return show(request, reply, { kind: 'error', text: t.exists }, 409);
      }
    },
  );

  const change = async (request: FastifyRequest, reply: FastifyReply, id: string, what: AccountChange) => {
    const t = peopleTexts(request.lang);
    const result = await changePerson(ctx, staffOf(request).id, id, what);
    const action = what.kind === 'role' ? 'account.role' : `account.${what.kind}`;
    const detail = what.kind === 'role' ? { role: what.role } : {};
    await audit(
      ctx,
      request,
      action,
      result.ok ? 'ok' : 'refused',
      result.ok ? detail : { ...detail, why: result.why },
      `account:${id}`,
    );
    if (result.ok) return show(request, reply, { kind: 'ok', text: t.changed });
    if (result.why === 'not-found') return reply.callNotFound();
    const text =
      result.why === 'last-beheerder' ? t.lastBeheerder : result.why === 'self' ? t.self : t.noChange;
    return show(request, reply, { kind: 'error', text }, 409);
  };

  app.post(
    '/people/:id/role',
    { schema: { hide: true, params: idParams, body: roleForm }, preValidation: beheer },
    (request, reply) => change(request, reply, request.params.id, { kind: 'role', role: request.body.role }),
  );
  for (const kind of ['disable', 'enable'] as const) {
    app.post(
      `/people/:id/${kind}`,
      {
        schema: { hide: true, params: idParams, body: z.object(csrfField).optional() },
        preValidation: beheer,
      },
      (request, reply) => change(request, reply, request.params.id, { kind }),
    );
  }
};
