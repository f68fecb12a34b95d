import { html, type SafeHtml } from '../web/html.ts';
import type { Language } from '../web/texts.ts';
import type { MeetingTexts } from './meeting.texts.ts';
import type { AgendaRow, MeetingDetailValues } from './meeting-details.rules.ts';
import { meetingDetailsFields } from './meeting-details.views.ts';

export interface AdminMeeting {
  id: string;
  version: number;
  slug: string;
  title: string;
  description: string | null;
  startsAt: string;
  endsAt: string;
  timeZone: string;
  venue: { name: string; address: string };
  onlineUrl: string | null;
  capacity: number;
  registrationOpensAt: string | null;
  registrationClosesAt: string | null;
  language: 'nl' | 'en';
  agenda: AgendaRow[];
  reminderOffsets: string[];
  status: 'draft' | 'published' | 'cancelled';
  seats: { capacity: number; confirmed: number; available: number; waitlisted: number };
}

export interface AdminAttendee {
  registrationId: string;
  status: string;
  position: number | null;
  name: string | null;
  email: string | null;
  organisation: string | null;
  dealName: string | null;
  registeredAt: string;
  checkedInAt: string | null;
}

export interface StaffActionItem {
  at: string;
  actor: { name: string | null; id: string };
  action: string;
  registrationName: string | null;
}

export interface Consequences {
  unchanged: boolean;
  notified: number;
  promoted: number;
  aboveCapacity: number;
}

export type FieldErrors = Record<string, string>;

/** The wall-clock time of an instant in the meeting's zone, as a datetime-local input holds it. */
export function localInput(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}`;
}

export const shown = (iso: string, timeZone: string) =>
  new Date(iso).toLocaleString('nl-NL', { timeZone, dateStyle: 'medium', timeStyle: 'short' });

function field(id: string, label: string, input: SafeHtml, errors: FieldErrors): SafeHtml {
  const error = errors[id];
  return html`<div class="field${error ? ' invalid' : ''}">
<label for="${id}">${label}</label>
${input}
${error ? html`<p class="error" id="${id}-error">${error}</p>` : ''}
</div>`;
}

const described = (id: string, errors: FieldErrors) =>
  errors[id] ? html` aria-invalid="true" aria-describedby="${id}-error"` : '';

export function meetingList(mt: MeetingTexts, meetings: readonly AdminMeeting[], mayEdit: boolean): SafeHtml {
  return html`${mayEdit ? html`<p><a class="button" href="/meetings/new">${mt.newMeeting}</a></p>` : ''}
<div class="table-scroll" tabindex="0" role="region" aria-label="${mt.meetings}"><table>
<thead><tr><th scope="col">${mt.title}</th><th scope="col">${mt.startsAt}</th><th scope="col">${mt.status}</th><th scope="col">${mt.seats}</th></tr></thead>
<tbody>${meetings.map(
    (m) => html`<tr>
<td><a href="/meetings/${m.id}">${m.title}</a></td>
<td>${shown(m.startsAt, m.timeZone)}</td>
<td>${mt.statuses[m.status]}</td>
<td>${m.seats.confirmed} / ${m.seats.capacity}${m.seats.waitlisted ? html` (+${m.seats.waitlisted} ${mt.waitlist})` : ''}</td>
</tr>`,
  )}</tbody></table></div>`;
}

export interface MeetingFormValues {
  title: string;
  slug: string;
  description: string;
  startsAt: string;
  endsAt: string;
  venueName: string;
  venueAddress: string;
  onlineUrl: string;
  capacity: string;
}

/** The create form, and the edit form without the times and capacity (they have their own confirmed steps). */
export function meetingForm(
  mt: MeetingTexts,
  options: {
    action: string;
    csrf: string;
    values: MeetingFormValues;
    errors: FieldErrors;
    edit: boolean;
    details?: { lang: Language; values: MeetingDetailValues };
  },
): SafeHtml {
  const { values: v, errors: e } = options;
  const text = (id: keyof MeetingFormValues, label: string, extra: SafeHtml | string = '') =>
    field(id, label, html`<input id="${id}" name="${id}" value="${v[id]}"${described(id, e)}${extra}>`, e);
  return html`${Object.keys(e).length ? html`<p role="alert" class="error">${mt.fixErrors}</p>` : ''}
<form method="post" action="${options.action}" class="stack">
<input type="hidden" name="_csrf" value="${options.csrf}">
${text('title', mt.title, html` required maxlength="200"`)}
${text('slug', mt.slug, html` required pattern="[a-z0-9]+(-[a-z0-9]+)*" maxlength="120"`)}
${field('description', mt.description, html`<textarea id="description" name="description" rows="4"${described('description', e)}>${v.description}</textarea>`, e)}
${
  options.edit
    ? ''
    : html`${text('startsAt', mt.startsAt, html` type="datetime-local" required`)}
${text('endsAt', mt.endsAt, html` type="datetime-local" required`)}
${text('capacity', mt.capacity, html` type="number" min="1" max="100000" required`)}`
}
${text('venueName', mt.venueName, html` required`)}
${text('venueAddress', mt.venueAddress, html` required`)}
${text('onlineUrl', mt.onlineUrl, html` type="url"`)}
${options.details ? meetingDetailsFields(options.details.lang, options.details.values, e) : ''}
${options.edit ? '' : html`<div class="check"><input type="checkbox" id="publish" name="publish" value="1"><label for="publish">${mt.publishNow}</label></div>`}
<button type="submit">${options.edit ? mt.edit : mt.create}</button>
</form>`;
}

const statusFilters = ['confirmed', 'waitlisted', 'checked_in', 'no_show', 'cancelled'] as const;

export function meetingPage(
  mt: MeetingTexts,
  options: {
    meeting: AdminMeeting;
    attendees: readonly AdminAttendee[];
    history: readonly StaffActionItem[];
    csrf: string;
    filter: { q: string; status: string };
    message?: string | undefined;
  },
): SafeHtml {
  const { meeting: m, attendees, history, csrf, filter } = options;
  const tz = m.timeZone;
  const live = m.status !== 'cancelled';
  const exportQuery = new URLSearchParams({
    ...(filter.q ? { q: filter.q } : {}),
    ...(filter.status ? { status: filter.status } : {}),
  }).toString();
  return html`${options.message ? html`<p role="status" class="ok">${options.message}</p>` : ''}
<dl class="facts">
  <div><dt>${mt.status}</dt><dd>${mt.statuses[m.status]}</dd></div>
  <div><dt>${mt.startsAt}</dt><dd>${shown(m.startsAt, tz)}</dd></div>
  <div><dt>${mt.endsAt}</dt><dd>${shown(m.endsAt, tz)}</dd></div>
  <div><dt>${mt.venueName}</dt><dd>${m.venue.name}, ${m.venue.address}</dd></div>
  <div><dt>${mt.seats}</dt><dd>${m.seats.confirmed} / ${m.seats.capacity} · ${mt.waitlist} ${m.seats.waitlisted}</dd></div>
</dl>
<p><a href="/meetings/${m.id}/messages">${mt.messages}</a></p>
${
  live
    ? html`<section aria-labelledby="changes" class="changes">
<h2 id="changes">${mt.edit}</h2>
<p><a href="/meetings/${m.id}/edit">${mt.edit}</a> · <a href="/meetings/${m.id}/attendees/new">${mt.addAttendee}</a> · <a href="/meetings/${m.id}/questions">${mt.questions}</a> · <a href="/meetings/${m.id}/mail-texts">${mt.mailTexts}</a></p>
${
  m.status === 'draft'
    ? html`<form method="post" action="/meetings/${m.id}/publish"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit">${mt.publish}</button></form>`
    : ''
}
<form method="post" action="/meetings/${m.id}/reschedule" class="inline">
  <input type="hidden" name="_csrf" value="${csrf}">
  <label for="r-start">${mt.startsAt}</label><input id="r-start" name="startsAt" type="datetime-local" required value="${localInput(m.startsAt, tz)}">
  <label for="r-end">${mt.endsAt}</label><input id="r-end" name="endsAt" type="datetime-local" required value="${localInput(m.endsAt, tz)}">
  <button type="submit">${mt.reschedule}</button>
</form>
<form method="post" action="/meetings/${m.id}/capacity" class="inline">
  <input type="hidden" name="_csrf" value="${csrf}">
  <label for="c-cap">${mt.capacity}</label><input id="c-cap" name="capacity" type="number" min="1" max="100000" required value="${m.capacity}">
  <button type="submit">${mt.changeCapacity}</button>
</form>
<form method="post" action="/meetings/${m.id}/cancel" class="inline">
  <input type="hidden" name="_csrf" value="${csrf}">
  <label for="x-reason">${mt.cancelReason}</label><input id="x-reason" name="reason" maxlength="1000">
  <button type="submit" class="danger">${mt.cancel}</button>
</form>
</section>`
    : ''
}
<section aria-labelledby="attendees-title">
<h2 id="attendees-title">${mt.attendees}</h2>
<form method="get" action="/meetings/${m.id}" class="search" role="search">
  <label for="aq">${mt.searchAttendees}</label>
  <input id="aq" name="q" type="search" value="${filter.q}">
  <label for="as" class="visually-hidden">${mt.status}</label>
  <select id="as" name="status">
    <option value="">${mt.allStatuses}</option>
    ${statusFilters.map((s) => html`<option value="${s}"${filter.status === s ? html` selected` : ''}>${mt.regStatuses[s]}</option>`)}
  </select>
  <button type="submit">${mt.filter}</button>
</form>
<p><a href="/meetings/${m.id}/attendees.csv${exportQuery ? `?${exportQuery}` : ''}" download>${mt.exportCsv}</a></p>
${
  attendees.length === 0
    ? html`<p>${mt.noAttendees}</p>`
    : html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="attendees-title"><table id="attendee-table">
<thead><tr><th scope="col">${mt.name}</th><th scope="col">${mt.organisation}</th><th scope="col">${mt.email}</th><th scope="col">${mt.status}</th><th scope="col">${mt.registered}</th></tr></thead>
<tbody>${attendees.map(
        (a) => html`<tr>
<td>${a.name ?? '—'}${
          a.status === 'confirmed' || a.status === 'waitlisted' || a.status === 'checked_in'
            ? html` <a href="/meetings/${m.id}/attendees/${a.registrationId}/edit" aria-label="${mt.changeShort}: ${a.name ?? ''}">${mt.changeShort}</a>`
            : ''
        }</td><td>${a.organisation ?? ''}${a.dealName ? html`<br><small>${a.dealName}</small>` : ''}</td><td>${a.email ?? ''}</td>
<td>${mt.regStatuses[a.status] ?? a.status}${a.position ? ` #${a.position}` : ''}</td><td>${shown(a.registeredAt, tz)}</td>
</tr>`,
      )}</tbody></table></div>`
}
</section>
<section aria-labelledby="history-title">
<h2 id="history-title">${mt.history}</h2>
<div class="table-scroll" tabindex="0" role="region" aria-labelledby="history-title"><table>
<thead><tr><th scope="col">${mt.when}</th><th scope="col">${mt.who}</th><th scope="col">${mt.what}</th></tr></thead>
<tbody>${history.map(
    (h) =>
      html`<tr><td>${shown(h.at, tz)}</td><td>${h.actor.name ?? h.actor.id}</td><td>${mt.actions[h.action] ?? h.action}${h.registrationName ? ` — ${h.registrationName}` : ''}</td></tr>`,
  )}</tbody></table></div>
</section>`;
}

/** The step between a change and its effect: what it will do, and a form that does it. */
export function confirmPage(
  mt: MeetingTexts,
  options: {
    action: string;
    csrf: string;
    fields: Record<string, string>;
    consequences: Consequences;
    change: 'edit' | 'publish' | 'reschedule' | 'capacity' | 'cancel';
    backTo: string;
  },
): SafeHtml {
  const c = options.consequences;
  const lines: string[] = [];
  if (c.unchanged) lines.push(mt.nothingChanges);
  else {
    lines.push(c.notified > 0 ? mt.willBeNotified(c.notified) : mt.nobodyNotified);
    if (c.promoted > 0) lines.push(mt.willBePromoted(c.promoted));
    if (c.aboveCapacity > 0) lines.push(mt.aboveCapacity(c.aboveCapacity));
    if (options.change === 'publish') lines.push(mt.publishOpens);
  }
  return html`<section aria-labelledby="consequences">
<h2 id="consequences">${mt.consequences}</h2>
<ul class="consequences">${lines.map((l) => html`<li>${l}</li>`)}</ul>
</section>
<form method="post" action="${options.action}">
<input type="hidden" name="_csrf" value="${options.csrf}">
<input type="hidden" name="confirm" value="1">
${Object.entries(options.fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<button type="submit">${mt.confirm}</button>
<a href="${options.backTo}">${mt.back}</a>
</form>`;
}

export function attendeeForm(
  mt: MeetingTexts,
  options: {
    action: string;
    csrf: string;
    values: Record<string, string>;
    errors: FieldErrors;
    change?: boolean;
  },
): SafeHtml {
  const { values: v, errors: e } = options;
  const text = (id: string, label: string, extra: SafeHtml | string = '') =>
    field(
      id,
      label,
      html`<input id="${id}" name="${id}" value="${v[id] ?? ''}"${described(id, e)}${extra}>`,
      e,
    );
  return html`${Object.keys(e).length ? html`<p role="alert" class="error">${mt.fixErrors}</p>` : ''}
<form method="post" action="${options.action}" class="stack">
<input type="hidden" name="_csrf" value="${options.csrf}">
${text('name', mt.name, html` required maxlength="200"`)}
${text('email', mt.email, html` type="email" required`)}
${text('organisation', mt.organisation)}
${
  options.change
    ? html`<div class="check"><input type="checkbox" id="substitute" name="substitute" value="1"${v.substitute ? html` checked` : ''}><label for="substitute">${mt.substitute}</label></div>
${e.substitute ? html`<p class="error">${e.substitute}</p>` : ''}
<button type="submit">${mt.save}</button>`
    : html`<div class="check"><input type="checkbox" id="overCapacity" name="overCapacity" value="1"${v.overCapacity ? html` checked` : ''}><label for="overCapacity">${mt.overCapacity}</label></div>
${e.overCapacity ? html`<p class="error">${e.overCapacity}</p>` : ''}
<button type="submit">${mt.add}</button>`
}
</form>`;
}
