import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { countLoginAttempts, recordAudit } from '../audit/audit.repository.ts';
import type { Routes } from '../context.ts';
import { audit, guard, loginCsrfValid, pageContext } from '../sessions/session.plugin.ts';
import { html } from '../web/html.ts';
import { layout } from '../web/layout.ts';
import { languages } from '../web/texts.ts';
import { may } from './account.rules.ts';
import { checkLogin } from './account.service.ts';

/** Only a path on this site: `next=//evil.example` or `https://…` would make the login an open redirect. */
const localPath = z
  .string()
  .max(2000)
  .regex(/^\/(?![/\\])/, 'a path on this site')
  .optional()
  .catch(undefined);

const loginBody = z.object({
  email: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(1024),
  _csrf: z.string().max(200).optional(),
  next: localPath,
});

export const loginRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  const loginPage = (
    request: Parameters<typeof pageContext>[0],
    csrf: string,
    next?: string,
    error?: string,
  ) => {
    const page = pageContext(request);
    const { t } = page;
    return layout(
      page,
      t.login,
      html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/login" class="stack">
  <input type="hidden" name="_csrf" value="${csrf}">
  ${next ? html`<input type="hidden" name="next" value="${next}">` : ''}
  <label for="email">${t.email}</label>
  <input id="email" name="email" type="email" autocomplete="username" required>
  <label for="password">${t.password}</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">${t.login}</button>
</form>
${ctx.config.OIDC_ISSUER ? html`<p><a class="button" href="/login/sso${next ? `?next=${encodeURIComponent(next)}` : ''}">${t.loginWith} ${ctx.config.OIDC_LABEL}</a></p>` : ''}`,
    );
  };

  app.get(
    '/login',
    { schema: { hide: true, querystring: z.object({ next: localPath }) } },
    async (request, reply) => {
      if (request.staffSession) return reply.redirect('/', 303);
      return reply
        .type('text/html; charset=utf-8')
        .send(loginPage(request, reply.issueLoginCsrf(), request.query.next));
    },
  );

  app.post('/login', { schema: { hide: true, body: loginBody } }, async (request, reply) => {
    const { t } = pageContext(request);
    const { email, password, next } = request.body;
    const now = ctx.clock.now();
    const attempt = (outcome: 'ok' | 'refused' | 'failed', why?: string, accountId: string | null = null) =>
      recordAudit(ctx.db, {
        at: now,
        accountId,
        who: email.toLowerCase(),
        action: 'login',
        outcome,
        detail: why ? { why } : null,
        ip: request.ip,
      });
    const again = (status: number, message: string) =>
      reply
        .status(status)
        .type('text/html; charset=utf-8')
        .send(loginPage(request, reply.issueLoginCsrf(), next, message));

    if (!loginCsrfValid(request)) {
      await attempt('refused', 'csrf');
      return again(403, t.forbidden);
    }
    const recent = await countLoginAttempts(ctx.db, request.ip, new Date(now.getTime() - 60_000));
    if (recent >= ctx.config.LOGIN_RATE_PER_MINUTE) {
      await attempt('refused', 'rate limit');
      return again(429, t.loginThrottled);
    }
    const result = await checkLogin(ctx, email, password);
    if (result.kind === 'locked') {
      await attempt('refused', 'locked');
      return again(423, t.loginLocked);
    }
    if (result.kind === 'refused') {
      await attempt('failed', 'wrong email or password');
      return again(401, t.loginFailed);
    }
    await attempt('ok', undefined, result.account.id);
    await reply.startSession(result.account);
    const home = may(result.account.role, 'view') ? '/' : '/door';
    return reply.redirect(next ?? home, 303);
  });

  app.post(
    '/logout',
    { schema: { hide: true }, preValidation: guard(ctx, 'session') },
    async (request, reply) => {
      await audit(ctx, request, 'logout', 'ok');
      await reply.endSession();
      return reply.redirect('/login', 303);
    },
  );

  app.get(
    '/language',
    { schema: { hide: true, querystring: z.object({ to: z.enum(languages), back: localPath }) } },
    async (request, reply) => {
      reply.setCookie('cd_lang', request.query.to, { path: '/', sameSite: 'lax', maxAge: 365 * 24 * 3600 });
      return reply.redirect(request.query.back ?? '/', 303);
    },
  );
};
