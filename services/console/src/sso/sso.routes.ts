import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { may } from '../accounts/account.rules.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import type { Routes } from '../context.ts';
import { pageContext } from '../sessions/session.plugin.ts';
import { html } from '../web/html.ts';
import { layout } from '../web/layout.ts';
import { SSO_ATTEMPT_TTL_MS } from './sso.rules.ts';
import { SsoClient } from './sso.service.ts';

const STATE_COOKIE = 'cd_sso_state';
const localPath = z
  .string()
  .max(2000)
  .regex(/^\/(?![/\\])/)
  .optional()
  .catch(undefined);

/**
 * Single sign-on, only when OIDC_ISSUER is set: `/login/sso` sends the person to the provider, the provider
 * sends them back to `/login/sso/callback`. Every outcome is in the audit trail.
 */
export const ssoRoutes: Routes = async (fastify, { ctx }) => {
  const { OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, PUBLIC_BASE_URL } = ctx.config;
  if (!OIDC_ISSUER || !OIDC_CLIENT_ID) return;
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const secure = PUBLIC_BASE_URL.startsWith('https:');
  const redirectUri = new URL('/login/sso/callback', PUBLIC_BASE_URL).href;
  const client = new SsoClient(ctx, {
    issuer: new URL(OIDC_ISSUER),
    clientId: OIDC_CLIENT_ID,
    clientSecret: OIDC_CLIENT_SECRET,
    redirectUri,
    requireVerifiedEmail: ctx.config.OIDC_REQUIRE_VERIFIED_EMAIL,
  });

  app.get(
    '/login/sso',
    { schema: { hide: true, querystring: z.object({ next: localPath }) } },
    async (request, reply) => {
      const { url, state } = await client.start(request.query.next);
      // Lax, not strict: the provider sends the person back with a top-level GET from its own site.
      reply.setCookie(STATE_COOKIE, state, {
        path: '/login/sso',
        httpOnly: true,
        sameSite: 'lax',
        secure,
        maxAge: SSO_ATTEMPT_TTL_MS / 1000,
      });
      return reply.redirect(url, 303);
    },
  );

  app.get('/login/sso/callback', { schema: { hide: true } }, async (request, reply) => {
    const state = request.cookies[STATE_COOKIE];
    reply.clearCookie(STATE_COOKIE, { path: '/login/sso' });
    const callbackUrl = new URL(request.url, PUBLIC_BASE_URL);
    const result = await client.finish(callbackUrl, state);
    const now = ctx.clock.now();
    if (result.kind === 'refused') {
      await recordAudit(ctx.db, {
        at: now,
        accountId: null,
        who: result.email ?? 'single sign-on',
        action: 'login.sso',
        outcome: 'refused',
        detail: { why: result.why },
        ip: request.ip,
      });
      const page = pageContext(request);
      return reply
        .status(403)
        .type('text/html; charset=utf-8')
        .send(
          layout(
            page,
            page.t.forbiddenTitle,
            html`<p role="alert">${page.t.ssoRefused}</p><p><a href="/login">${page.t.login}</a></p>`,
          ),
        );
    }
    await recordAudit(ctx.db, {
      at: now,
      accountId: result.account.id,
      who: `${result.account.name} <${result.account.email}>`,
      action: 'login.sso',
      outcome: 'ok',
      detail: { issuer: OIDC_ISSUER, subject: result.subject },
      ip: request.ip,
    });
    await reply.startSession(result.account);
    const home = may(result.account.role, 'view') ? '/' : '/door';
    return reply.redirect(result.next ?? home, 303);
  });
};
