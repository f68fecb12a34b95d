import { may } from '../accounts/account.rules.ts';
import type { Routes } from '../context.ts';
import type { DealSummary } from '../deals/deal.views.ts';
import { phaseChart } from '../deals/deal.views.ts';
import { boardTexts } from '../deals/deal-board.views.ts';
import { nextMeeting } from '../door/door.rules.ts';
import { meetingTexts } from '../meetings/meeting.texts.ts';
import { guard, pageContext, staffOf } from '../sessions/session.plugin.ts';
import { backendFailure } from '../web/backend-failure.ts';
import { html } from '../web/html.ts';
import { layout } from '../web/layout.ts';
import { cumulativeByDay } from './overview.rules.ts';
import { registrationsChart } from './overview.views.ts';

export interface MeetingSummary {
  id: string;
  title: string;
  startsAt: string;
  endsAt: string;
  timeZone: string;
  seats: { capacity: number; confirmed: number; available: number; waitlisted: number };
}

/** The public meeting list (with seats) and the deal list: two calls, whatever the number of meetings or deals: lists, never one request per item. */
export const overviewRoutes: Routes = async (app, { ctx }) => {
  app.get('/', { schema: { hide: true }, preValidation: guard(ctx, 'session') }, async (request, reply) => {
    const staff = staffOf(request);
    if (!may(staff.role, 'view')) return reply.redirect('/door', 303);
    const page = pageContext(request);
    const { t } = page;
    const [meetings, deals] = await Promise.all([
      ctx.services.call<{ items: MeetingSummary[] }>(staff, 'registration', 'GET', '/meetings'),
      ctx.services.call<{ items: DealSummary[] }>(staff, 'dealTracking', 'GET', '/deals?limit=500'),
    ]);
    if (meetings.status !== 200) return backendFailure(reply, page, meetings.status);
    if (deals.status !== 200) return backendFailure(reply, page, deals.status);
    const meeting = nextMeeting(meetings.body.items, ctx.clock.now());
    const mt = meetingTexts(page.lang);
    // Attendee data needs the meetings role (the read-only role sees counts only): one list call, not one per person.
    let chart = html``;
    if (meeting && may(staff.role, 'meetings')) {
      const list = await ctx.services.call<{ items: { registeredAt: string; status: string }[] }>(
        staff,
        'registration',
        'GET',
        `/admin/meetings/${meeting.id}/registrations?limit=1000`,
      );
      if (list.status !== 200) return backendFailure(reply, page, list.status);
      const at = list.body.items.filter((r) => r.status !== 'cancelled').map((r) => r.registeredAt);
      chart = html`<h3>${mt.registrationsOverTime}</h3>${registrationsChart(mt.registrationsOverTime, cumulativeByDay(at, meeting.timeZone))}
<p><a href="/meetings/${meeting.id}">${mt.attendees}</a></p>`;
    }
    const body = html`<section aria-labelledby="next-meeting">
<h2 id="next-meeting">${t.nextMeeting}</h2>
${
  meeting
    ? html`<p><strong>${meeting.title}</strong>, ${new Date(meeting.startsAt).toLocaleString('nl-NL', { timeZone: meeting.timeZone })}</p>
<dl class="figures">
  <div><dt>${t.seats}</dt><dd>${meeting.seats.confirmed} ${t.taken} / ${meeting.seats.capacity}</dd></div>
  <div><dt>${t.available}</dt><dd>${meeting.seats.available}</dd></div>
  <div><dt>${t.waitlist}</dt><dd>${meeting.seats.waitlisted}</dd></div>
</dl>
<meter min="0" max="${meeting.seats.capacity}" value="${meeting.seats.confirmed}" aria-label="${t.seats}">${meeting.seats.confirmed}</meter>
${chart}`
    : html`<p>${t.noMeeting}</p>`
};
</section>
<section aria-labelledby="deals-by-phase">
<h2 id="deals-by-phase"><a href="/deals">${t.dealsByPhase}</a></h2>
<a class="chart-link" href="/deals/board">${phaseChart(t, deals.body.items)}<span>${boardTexts(page.lang).asBoard}</span></a>
${may(staff.role, 'meetings') ? html`<p><a href="/reports/attendance">${mt.attendancePerDeal}</a></p>` : ''}
</section>`;
    return reply.type('text/html; charset=utf-8').send(layout(page, t.overview, body));
  });
};
