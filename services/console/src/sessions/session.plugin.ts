import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StaffRole } from '@citydeals/service-kit';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type ConsoleAction, may, sessionExpiry } from '../accounts/account.rules.ts';
import type { StaffAccount } from '../accounts/account.service.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import type { ServiceContext } from '../context.ts';
import { html } from '../web/html.ts';
import { layout, type PageContext } from '../web/layout.ts';
import { type Language, languages, textsFor } from '../web/texts.ts';
import { deleteSession, extendSession, findLiveSession, insertSession } from './session.repository.ts';

export interface StaffSession {
  idHash: string;
  account: StaffAccount;
  csrfToken: string;
}

const LANGUAGE_COOKIE = 'cd_lang';
/** A session's last use is written at most this often (its idle limit counts in minutes). */
const SESSION_TOUCH_MS = 60_000;
/** Pre-login CSRF: the login form's token is also in this cookie (double submit). */
const LOGIN_CSRF_COOKIE = 'cd_login_csrf';

/**
 * The strictest policy the pages work with: scripts and styles only as files from this origin, no inline code,
 * no framing, forms only back to this origin.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function sessionCookieName(secure: boolean): string {
  // `__Host-` makes browsers refuse the cookie unless it is Secure, host-only and for path /.
  return secure ? '__Host-cd_session' : 'cd_session';
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const newToken = () => randomBytes(32).toString('base64url');

function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Cookies, form bodies, security headers, the language and the session: registered once, it decorates every
 * request with `staffSession` (or null) and `lang`, which the routes and the guards read.
 */
export const sessionPlugin = fp<{ ctx: ServiceContext }>(
  async (app, { ctx }) => {
    const secure = ctx.config.PUBLIC_BASE_URL.startsWith('https:');
    const cookieName = sessionCookieName(secure);
    const idleMs = ctx.config.SESSION_IDLE_MINUTES * 60_000;
    const maxMs = ctx.config.SESSION_MAX_MINUTES * 60_000;
    await app.register(cookie);
    await app.register(formbody, { bodyLimit: 64 * 1024 });
    app.decorateRequest('staffSession', null);
    app.decorateRequest('lang', 'nl');

    app.addHook('onRequest', async (request, reply) => {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
      reply.header('x-frame-options', 'DENY');
      reply.header('cache-control', 'no-store');
      const lang = request.cookies[LANGUAGE_COOKIE];
      request.lang = languages.includes(lang as Language) ? (lang as Language) : 'nl';
      const id = request.cookies[cookieName];
      if (!id) return;
      const now = ctx.clock.now();
      const row = await findLiveSession(ctx.db, sha256(id), now);
      if (!row) {
        reply.clearCookie(cookieName, { path: '/' });
        return;
      }
      // A write per page view is the console's largest cost under load; a minute is finer than any idle limit.
      if (now.getTime() - row.last_seen_at.getTime() >= SESSION_TOUCH_MS) {
        await extendSession(ctx.db, row.id_hash, now, sessionExpiry(row.created_at, now, idleMs, maxMs));
      }
      request.staffSession = {
        idHash: row.id_hash,
        csrfToken: row.csrf_token,
        account: { id: row.account_id, email: row.email, name: row.name, role: row.role },
      };
    });

    app.decorateReply('startSession', async function startSession(this: FastifyReply, account: StaffAccount) {
      const id = newToken();
      const now = ctx.clock.now();
      await insertSession(ctx.db, {
        idHash: sha256(id),
        accountId: account.id,
        csrfToken: newToken(),
        createdAt: now,
        expiresAt: sessionExpiry(now, now, idleMs, maxMs),
        ip: this.request.ip,
      });
      this.setCookie(cookieName, id, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure,
        maxAge: maxMs / 1000,
      });
      this.clearCookie(LOGIN_CSRF_COOKIE, { path: '/login' });
    });

    app.decorateReply('endSession', async function endSession(this: FastifyReply) {
      const session = this.request.staffSession;
      if (session) await deleteSession(ctx.db, session.idHash);
      this.clearCookie(cookieName, { path: '/' });
    });

    app.decorateReply('issueLoginCsrf', function issueLoginCsrf(this: FastifyReply): string {
      const token = newToken();
      this.setCookie(LOGIN_CSRF_COOKIE, token, {
        path: '/login',
        httpOnly: true,
        sameSite: 'strict',
        secure,
      });
      return token;
    });
  },
  { name: 'console-session' },
);

export function pageContext(request: FastifyRequest): PageContext {
  const session = request.staffSession;
  return {
    lang: request.lang,
    t: textsFor(request.lang),
    path: request.url,
    staff: session
      ? { name: session.account.name, role: session.account.role, csrfToken: session.csrfToken }
      : undefined,
  };
}

function formToken(request: FastifyRequest): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  const token = body?._csrf ?? request.headers['x-csrf-token'];
  return typeof token === 'string' ? token : undefined;
}

/** The login form's token against its cookie; the form has no session yet to hold it. */
export function loginCsrfValid(request: FastifyRequest): boolean {
  return sameToken(formToken(request), request.cookies[LOGIN_CSRF_COOKIE]);
}

/**
 * The guard every page and action declares: no session → to the login page; a role that may not → 403 and an
 * audit line; a state-changing request without the session's CSRF token → 403, nothing done.
 */
export function guard(ctx: ServiceContext, action: ConsoleAction) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const session = request.staffSession;
    if (!session) {
      if (request.method === 'GET') {
        return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
      }
      return refuse(reply, request, 401, 'not logged in');
    }
    if (
      request.method !== 'GET' &&
      request.method !== 'HEAD' &&
      !sameToken(formToken(request), session.csrfToken)
    ) {
      await audit(ctx, request, `${request.method} ${request.routeOptions.url}`, 'refused', { why: 'csrf' });
      return refuse(reply, request, 403, 'csrf');
    }
    if (!may(session.account.role, action)) {
      await audit(ctx, request, `${request.method} ${request.routeOptions.url}`, 'refused', { why: 'role' });
      return refuse(reply, request, 403, 'role');
    }
  };
}

function refuse(reply: FastifyReply, request: FastifyRequest, status: number, _why: string) {
  const page = pageContext(request);
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .send(layout(page, page.t.forbiddenTitle, html`<p role="alert">${page.t.forbidden}</p>`));
}

/** One line in the audit trail for what the logged-in person did (or tried), from where. */
export async function audit(
  ctx: ServiceContext,
  request: FastifyRequest,
  action: string,
  outcome: 'ok' | 'refused' | 'failed',
  detail?: Record<string, unknown>,
  target?: string,
) {
  const account = request.staffSession?.account;
  await recordAudit(ctx.db, {
    at: ctx.clock.now(),
    accountId: account?.id ?? null,
    who: account ? `${account.name} <${account.email}>` : 'anonymous',
    action,
    target: target ?? null,
    outcome,
    detail: detail ?? null,
    ip: request.ip,
  });
}

export function staffOf(request: FastifyRequest): StaffAccount & { role: StaffRole } {
  const session = request.staffSession;
  if (!session) throw new Error('guard() must run before a route reads the staff member');
  return session.account;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The console's logged-in person, or null. */
    staffSession: StaffSession | null;
    lang: Language;
  }
  interface FastifyReply {
    startSession(account: StaffAccount): Promise<void>;
    endSession(): Promise<void>;
    issueLoginCsrf(): string;
  }
}
