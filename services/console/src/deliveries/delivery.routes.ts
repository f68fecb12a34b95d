import { dealTrackingEvents } from '@citydeals/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { may } from '../accounts/account.rules.ts';
import type { Backend } from '../backends/services.client.ts';
import type { Routes } from '../context.ts';
import type { Notice } from '../people/people.views.ts';
import { audit, guard, pageContext, staffOf } from '../sessions/session.plugin.ts';
import { backendFailure } from '../web/backend-failure.ts';
import { layout } from '../web/layout.ts';
import { dayBeforeLocal, localToInstant } from './deliveries.rules.ts';
import { deliveriesTexts } from './deliveries.texts.ts';
import {
  type Attempt,
  type DeadLetter,
  deadLettersPage,
  type Endpoint,
  endpointPage,
  type MailItem,
  type Message,
  mailsPage,
  messagePage,
  webhooksPage,
} from './delivery.views.ts';

const HTML = 'text/html; charset=utf-8';
const csrf = { _csrf: z.string().max(200).optional() };
const endpointParams = z.object({ id: z.uuid() });
const messageParams = z.object({ messageId: z.uuid() });
const backends = ['registration', 'dealTracking', 'notification'] as const;
// The event types an endpoint may subscribe to, as notification names them: deal events by subject.
const DEAL_EVENT_TYPES = Object.values(dealTrackingEvents).map((event) => event.subject);

/**
 * Deliveries through notification's (and each service's) admin API, as the person: the mail log per meeting
 * and person, webhook endpoints with their messages and attempts, dead letters with retry.
 */
export const deliveryRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const view = guard(ctx, 'deliveries');
  const manage = guard(ctx, 'manage-webhooks');
  const call = <T>(
    request: FastifyRequest,
    backend: Backend,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ) => ctx.services.call<T>(staffOf(request), backend, method, path, body === undefined ? {} : { body });
  const texts = (request: FastifyRequest) => deliveriesTexts(request.lang);
  const problemText = (body: unknown) =>
    typeof body === 'object' && body && 'detail' in body ? String(body.detail) : '';

  const showWebhooks = async (
    request: FastifyRequest,
    reply: FastifyReply,
    message?: Notice,
    status = 200,
  ) => {
    const page = pageContext(request);
    const t = texts(request);
    const list = await call<{ items: Endpoint[] }>(
      request,
      'notification',
      'GET',
      '/webhooks/endpoints?limit=500',
    );
    if (list.status !== 200) return backendFailure(reply, page, list.status);
    const form = may(staffOf(request).role, 'manage-webhooks') ? { csrf: page.staff!.csrfToken } : null;
    return reply
      .status(status)
      .type(HTML)
      .send(layout(page, t.title, webhooksPage(t, list.body.items, form, DEAL_EVENT_TYPES, message)));
  };

  const showEndpoint = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    message?: Notice,
    status = 200,
  ) => {
    const page = pageContext(request);
    const t = texts(request);
    const [endpoint, messages] = await Promise.all([
      call<Endpoint>(request, 'notification', 'GET', `/webhooks/endpoints/${id}`),
      call<{ items: Message[] }>(
        request,
        'notification',
        'GET',
        `/webhooks/endpoints/${id}/messages?limit=200`,
      ),
    ]);
    if (endpoint.status !== 200) return backendFailure(reply, page, endpoint.status);
    if (messages.status !== 200) return backendFailure(reply, page, messages.status);
    const forms = {
      csrf: page.staff!.csrfToken,
      manage: may(staffOf(request).role, 'manage-webhooks'),
      replaySince: dayBeforeLocal(ctx.clock.now()),
    };
    return reply
      .status(status)
      .type(HTML)
      .send(
        layout(
          page,
          endpoint.body.url,
          endpointPage(t, endpoint.body, [...messages.body.items].reverse(), forms, message),
        ),
      );
  };

  const showMessage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    info?: Notice,
    status = 200,
  ) => {
    const page = pageContext(request);
    const t = texts(request);
    const message = await call<Message & { endpointId: string; attemptLog: Attempt[] }>(
      request,
      'notification',
      'GET',
      `/webhooks/messages/${id}`,
    );
    if (message.status !== 200) return backendFailure(reply, page, message.status);
    return reply
      .status(status)
      .type(HTML)
      .send(layout(page, t.message, messagePage(t, message.body, page.staff!.csrfToken, info)));
  };

  const showDeadLetters = async (
    request: FastifyRequest,
    reply: FastifyReply,
    info?: Notice,
    status = 200,
  ) => {
    const page = pageContext(request);
    const t = texts(request);
    const letters = await Promise.all(
      backends.map(async (backend) => {
        const answer = await call<{ items: DeadLetter[] }>(
          request,
          backend,
          'GET',
          '/admin/dead-letters?limit=200',
        ).catch(() => null);
        return { backend, items: answer?.status === 200 ? answer.body.items : null };
      }),
    );
    return reply
      .status(status)
      .type(HTML)
      .send(layout(page, t.deadLetters, deadLettersPage(t, letters, page.staff!.csrfToken, info)));
  };

  /** Audits a change made through a service and says how it went. */
  const record = (request: FastifyRequest, action: string, target: string, status: number, detail = {}) =>
    audit(ctx, request, action, status < 300 ? 'ok' : 'failed', { ...detail, status }, target);

  app.get('/deliveries', { schema: { hide: true }, preValidation: view }, (request, reply) =>
    showWebhooks(request, reply),
  );

  app.get(
    '/deliveries/mails',
    {
      schema: {
        hide: true,
        querystring: z.object({
          meetingId: z.uuid().optional().catch(undefined),
          recipient: z.email().max(254).optional().catch(undefined),
        }),
      },
      preValidation: view,
    },
    async (request, reply) => {
      const page = pageContext(request);
      const t = texts(request);
      const { meetingId, recipient } = request.query;
      const search = new URLSearchParams({ limit: '200' });
      if (meetingId) search.set('meetingId', meetingId);
      if (recipient) search.set('recipient', recipient);
      const [meetings, mails] = await Promise.all([
        call<{ items: { id: string; title: string }[] }>(request, 'registration', 'GET', '/admin/meetings'),
        call<{ items: MailItem[] }>(request, 'notification', 'GET', `/emails?${search}`),
      ]);
      if (meetings.status !== 200) return backendFailure(reply, page, meetings.status);
      if (mails.status !== 200) return backendFailure(reply, page, mails.status);
      return reply
        .type(HTML)
        .send(
          layout(
            page,
            t.mailLog,
            mailsPage(t, meetings.body.items, { meetingId, recipient }, mails.body.items),
          ),
        );
    },
  );

  app.post(
    '/deliveries/webhooks',
    {
      schema: {
        hide: true,
        body: z.object({
          url: z.string().max(2048),
          description: z.string().max(500).default(''),
          eventType: z.string().max(200),
          ...csrf,
        }),
      },
      preValidation: manage,
    },
    async (request, reply) => {
      const t = texts(request);
      const { url, description, eventType } = request.body;
      const answer = await call<Endpoint & { secret: string }>(
        request,
        'notification',
        'POST',
        '/webhooks/endpoints',
        {
          url,
          description,
          eventTypes: [eventType],
        },
      );
      await record(
        request,
        'webhook.create',
        `webhook:${answer.status === 201 ? answer.body.id : url}`,
        answer.status,
        { url },
      );
      if (answer.status === 201) {
        return showEndpoint(
          request,
          reply,
          answer.body.id,
          { kind: 'ok', text: t.created, secret: answer.body.secret },
          201,
        );
      }
      if (answer.status === 400) {
        return showWebhooks(
          request,
          reply,
          { kind: 'error', text: `${t.refused} ${problemDetail(answer.body)}` },
          400,
        );
      }
      return backendFailure(reply, pageContext(request), answer.status);
    },
  );

  const endpointAction = (
    action: 'test' | 'disable' | 'enable' | 'rotate-secret',
    hook: ReturnType<typeof guard>,
  ) =>
    app.post(
      `/deliveries/webhooks/:id/${action}`,
      { schema: { hide: true, params: endpointParams, body: z.object(csrf) }, preValidation: hook },
      async (request, reply) => {
        const t = texts(request);
        const { id } = request.params;
        const answer = await call<{ id: string; secret?: string }>(
          request,
          'notification',
          'POST',
          `/webhooks/endpoints/${id}/${action}`,
          action === 'rotate-secret' ? {} : undefined,
        );
        await record(request, `webhook.${action}`, `webhook:${id}`, answer.status);
        if (answer.status === 409)
          return showEndpoint(
            request,
            reply,
            id,
            { kind: 'error', text: `${t.refused} ${problemText(answer.body)}` },
            409,
          );
        if (answer.status >= 300) return backendFailure(reply, pageContext(request), answer.status);
        if (action === 'test')
          return showMessage(request, reply, answer.body.id, { kind: 'ok', text: t.testQueued }, 202);
        const message: Notice =
          action === 'rotate-secret'
            ? { kind: 'ok', text: t.rotated, secret: answer.body.secret }
            : { kind: 'ok', text: t.changed };
        return showEndpoint(request, reply, id, message);
      },
    );
  endpointAction('test', view);
  endpointAction('disable', manage);
  endpointAction('enable', manage);
  endpointAction('rotate-secret', manage);

  app.post(
    '/deliveries/webhooks/:id/replay',
    {
      schema: {
        hide: true,
        params: endpointParams,
        body: z.object({
          since: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, 'a date and time'),
          onlyFailed: z.literal('true').optional(),
          ...csrf,
        }),
      },
      preValidation: view,
    },
    async (request, reply) => {
      const t = texts(request);
      const { id } = request.params;
      const since = localToInstant(request.body.since).toISOString();
      const onlyFailed = request.body.onlyFailed === 'true';
      const answer = await call<{ queued: number }>(
        request,
        'notification',
        'POST',
        `/webhooks/endpoints/${id}/replay`,
        {
          since,
          onlyFailed,
        },
      );
      await record(request, 'webhook.replay', `webhook:${id}`, answer.status, { since, onlyFailed });
      if (answer.status !== 202) return backendFailure(reply, pageContext(request), answer.status);
      return showEndpoint(request, reply, id, { kind: 'ok', text: t.replayed(answer.body.queued) });
    },
  );

  app.get(
    '/deliveries/webhooks/:id',
    { schema: { hide: true, params: endpointParams }, preValidation: view },
    (request, reply) => showEndpoint(request, reply, request.params.id),
  );

  app.get(
    '/deliveries/messages/:messageId',
    { schema: { hide: true, params: messageParams }, preValidation: view },
    (request, reply) => showMessage(request, reply, request.params.messageId),
  );

  app.post(
    '/deliveries/messages/:messageId/retry',
    { schema: { hide: true, params: messageParams, body: z.object(csrf) }, preValidation: view },
    async (request, reply) => {
      const t = texts(request);
      const { messageId } = request.params;
      const answer = await call(request, 'notification', 'POST', `/webhooks/messages/${messageId}/retry`);
      await record(request, 'webhook.retry', `webhook-message:${messageId}`, answer.status);
      if (answer.status === 409)
        return showMessage(request, reply, messageId, { kind: 'error', text: t.inFlight }, 409);
      if (answer.status !== 202) return backendFailure(reply, pageContext(request), answer.status);
      return showMessage(request, reply, messageId, { kind: 'ok', text: t.retried });
    },
  );

  app.get('/deliveries/dead-letters', { schema: { hide: true }, preValidation: view }, (request, reply) =>
    showDeadLetters(request, reply),
  );

  app.post(
    '/deliveries/dead-letters/:backend/:id/retry',
    {
      schema: {
        hide: true,
        params: z.object({ backend: z.enum(backends), id: z.coerce.number().int().positive() }),
        body: z.object(csrf),
      },
      preValidation: view,
    },
    async (request, reply) => {
      const t = texts(request);
      const { backend, id } = request.params;
      const answer = await call(request, backend, 'POST', `/admin/dead-letters/${id}/retry`);
      await record(request, 'dead-letter.retry', `dead-letter:${backend}:${id}`, answer.status);
      if (answer.status === 200) return showDeadLetters(request, reply, { kind: 'ok', text: t.resolved });
      if (answer.status === 409) {
        return showDeadLetters(
          request,
          reply,
          { kind: 'error', text: `${t.stillFailing} ${problemText(answer.body)}` },
          409,
        );
      }
      return backendFailure(reply, pageContext(request), answer.status);
    },
  );
};

function problemDetail(body: unknown): string {
  if (typeof body !== 'object' || !body) return '';
  const errors = 'errors' in body && Array.isArray(body.errors) ? body.errors : [];
  const fields = errors.map(
    (e: { field?: string; message?: string }) => `${e.field ?? ''}: ${e.message ?? ''}`,
  );
  return fields.length ? fields.join('; ') : 'detail' in body ? String(body.detail) : '';
}
