import { isHeldToday } from '@citydeals/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import type { MeetingSummary } from '../overview/overview.routes.ts';
import { audit, guard, pageContext, staffOf } from '../sessions/session.plugin.ts';
import { backendFailure } from '../web/backend-failure.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { layout, type PageContext } from '../web/layout.ts';
import type { Texts } from '../web/texts.ts';

interface Attendee {
  registrationId: string;
  status: string;
  name: string | null;
  organisation: string | null;
  checkedInAt: string | null;
}

const searchQuery = z.object({ q: z.string().trim().max(100).optional().catch(undefined) });
const checkInForm = z.object({
  registrationId: z.uuid(),
  meetingId: z.uuid(),
  q: z.string().trim().max(100).optional(),
  _csrf: z.string().max(200).optional(),
});

function attendeeList(
  t: Texts,
  meetingId: string,
  attendees: readonly Attendee[],
  csrf: string,
  q: string,
): SafeHtml {
  return html`<ul class="attendees" id="attendees" aria-live="polite">${attendees.map(
    (a) => html`<li>
  <span class="who"><strong>${a.name ?? '—'}</strong> ${a.organisation ? html`<small>${a.organisation}</small>` : ''}</span>
  ${
    a.status === 'checked_in'
      ? html`<span class="done">✓ ${t.checkedIn}</span>
  <form method="post" action="/door/undo">
    <input type="hidden" name="_csrf" value="${csrf}">
    <input type="hidden" name="meetingId" value="${meetingId}">
    <input type="hidden" name="registrationId" value="${a.registrationId}">
    <input type="hidden" name="q" value="${q}">
    <button type="submit" class="secondary" aria-label="${t.undoCheckIn}: ${a.name ?? ''}">${t.undoCheckIn}</button>
  </form>`
      : html`<form method="post" action="/door/check-in">
    <input type="hidden" name="_csrf" value="${csrf}">
    <input type="hidden" name="meetingId" value="${meetingId}">
    <input type="hidden" name="registrationId" value="${a.registrationId}">
    <input type="hidden" name="q" value="${q}">
    <button type="submit" aria-label="${t.checkIn}: ${a.name ?? ''}">${t.checkIn}</button>
  </form>`
  }
</li>`,
  )}</ul>`;
}

export const doorRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  /** Today's meeting and the attendees matching `q` (confirmed or in), or a page explaining why not. */
  const load = async (request: FastifyRequest, reply: FastifyReply, q: string) => {
    const staff = staffOf(request);
    const page = pageContext(request);
    const meetings = await ctx.services.call<{ items: MeetingSummary[] }>(
      staff,
      'registration',
      'GET',
      '/meetings',
    );
    if (meetings.status !== 200) return { failed: backendFailure(reply, page, meetings.status) };
    const meeting = meetings.body.items.find((m) => isHeldToday(m, ctx.clock.now()));
    if (!meeting) return { page, meeting: undefined, attendees: [] as Attendee[] };
    const search = new URLSearchParams({ limit: '200' });
    if (q) search.set('q', q);
    const list = await ctx.services.call<{ items: Attendee[] }>(
      staff,
      'registration',
      'GET',
      `/admin/meetings/${meeting.id}/registrations?${search}`,
    );
    if (list.status !== 200) return { failed: backendFailure(reply, page, list.status) };
    const attendees = list.body.items.filter((a) => a.status === 'confirmed' || a.status === 'checked_in');
    return { page, meeting, attendees };
  };

  type Loaded = { page: PageContext; meeting: MeetingSummary | undefined; attendees: Attendee[]; q: string };
  const doorPage = (path: string, render: (loaded: Loaded) => string) =>
    app.get(
      path,
      { schema: { hide: true, querystring: searchQuery }, preValidation: guard(ctx, 'door') },
      async (request, reply) => {
        const q = request.query.q ?? '';
        const loaded = await load(request, reply, q);
        if ('failed' in loaded) return loaded.failed;
        return reply.type('text/html; charset=utf-8').send(render({ ...loaded, q }));
      },
    );

  doorPage('/door', ({ page, meeting, attendees, q }) => {
    const { t } = page;
    const arrived = attendees.filter((a) => a.status === 'checked_in').length;
    const body = meeting
      ? html`<p><strong>${meeting.title}</strong> · <span id="arrived">${arrived} ${t.arrived} / ${attendees.length}</span></p>
<form method="get" action="/door" class="search" role="search" data-live-search="/door/results">
  <label for="q">${t.search}</label>
  <input id="q" name="q" type="search" value="${q}" autocomplete="off">
  <button type="submit">${t.searchButton}</button>
</form>
<div class="scanner" data-scanner hidden>
  <button type="button" data-scan-start>${t.scanQr}</button>
  <video data-scan-video muted playsinline hidden></video>
  <p data-scan-status role="status"></p>
</div>
${attendeeList(t, meeting.id, attendees, page.staff!.csrfToken, q)}`
      : html`<p>${t.noMeetingToday}</p>`;
    return layout(page, t.todaysMeeting, body);
  });

  // The list alone, for the search-as-you-type script; without script the form above does the same.
  doorPage('/door/results', ({ page, meeting, attendees, q }) =>
    meeting ? attendeeList(page.t, meeting.id, attendees, page.staff!.csrfToken, q).value : '',
  );

  /**
   * The address in the confirmation mail's QR code: the attendee of today's meeting with one button to check
   * them in. Reading it changes nothing (a GET never does), and only staff get past the login; someone else
   * holding the code learns nothing but a login page.
   */
  app.get(
    '/door/scan/:registrationId',
    {
      schema: { hide: true, params: z.object({ registrationId: z.uuid() }) },
      preValidation: guard(ctx, 'door'),
    },
    async (request, reply) => {
      const loaded = await load(request, reply, '');
      if ('failed' in loaded) return loaded.failed;
      const { page, meeting, attendees } = loaded;
      const { t } = page;
      const attendee = attendees.find((a) => a.registrationId === request.params.registrationId);
      await audit(
        ctx,
        request,
        'door.scan',
        attendee ? 'ok' : 'failed',
        undefined,
        `registration:${request.params.registrationId}`,
      );
      if (!meeting || !attendee) {
        return reply
          .status(404)
          .type('text/html; charset=utf-8')
          .send(
            layout(
              page,
              t.scanQr,
              html`<p role="alert">${t.notForToday}</p><p><a href="/door">${t.door}</a></p>`,
            ),
          );
      }
      return reply
        .type('text/html; charset=utf-8')
        .send(
          layout(
            page,
            t.scanQr,
            html`<p><strong>${meeting.title}</strong></p>${attendeeList(t, meeting.id, [attendee], page.staff!.csrfToken, '')}<p><a href="/door">${t.door}</a></p>`,
          ),
        );
    },
  );

  app.post(
    '/door/undo',
    { schema: { hide: true, body: checkInForm }, preValidation: guard(ctx, 'door') },
    async (request, reply) => {
      const { registrationId, q } = request.body;
      const answer = await ctx.services.call(
        staffOf(request),
        'registration',
        'POST',
        `/admin/registrations/${registrationId}/check-in/undo`,
      );
      const outcome = answer.status === 200 ? 'ok' : 'failed';
      await audit(
        ctx,
        request,
        'door.undo-check-in',
        outcome,
        { status: answer.status },
        `registration:${registrationId}`,
      );
      if (answer.status !== 200) return backendFailure(reply, pageContext(request), answer.status);
      return reply.redirect(`/door${q ? `?q=${encodeURIComponent(q)}` : ''}`, 303);
    },
  );

  app.post(
    '/door/check-in',
    { schema: { hide: true, body: checkInForm }, preValidation: guard(ctx, 'door') },
    async (request, reply) => {
      const { registrationId, q } = request.body;
      const answer = await ctx.services.call(
        staffOf(request),
        'registration',
        'POST',
        `/admin/registrations/${registrationId}/check-in`,
      );
      const outcome = answer.status === 200 ? 'ok' : 'failed';
      await audit(
        ctx,
        request,
        'door.check-in',
        outcome,
        { status: answer.status },
        `registration:${registrationId}`,
      );
      if (answer.status !== 200) return backendFailure(reply, pageContext(request), answer.status);
      return reply.redirect(`/door${q ? `?q=${encodeURIComponent(q)}` : ''}`, 303);
    },
  );
};
