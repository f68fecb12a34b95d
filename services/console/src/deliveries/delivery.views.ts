import type { Backend } from '../backends/services.client.ts';
import { type Notice, notice } from '../people/people.views.ts';
import { html, type SafeHtml } from '../web/html.ts';
import type { DeliveriesTexts } from './deliveries.texts.ts';

export interface MailItem {
  id: string;
  kind: string;
  status: string;
  recipient: string | null;
  subject: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}
export interface Endpoint {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  status: 'enabled' | 'disabled';
  disabledReason: 'manual' | 'gone' | 'failing' | null;
  failingSince: string | null;
}
export interface Message {
  id: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
}
export interface Attempt {
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  outcome: string;
}
export interface DeadLetter {
  id: number;
  consumer: string;
  eventType: string | null;
  error: string;
  deliveries: number;
  createdAt: string;
}

const when = (iso: string) => new Date(iso).toLocaleString('nl-NL', { timeZone: 'Europe/Amsterdam' });
const hidden = (csrf: string) => html`<input type="hidden" name="_csrf" value="${csrf}">`;
const shortType = (type: string) => type.replace(/^nl\.citydeals\./, '');

export function deliveriesNav(t: DeliveriesTexts): SafeHtml {
  return html`<nav aria-label="${t.title}" class="subnav"><ul>
<li><a href="/deliveries">${t.webhooks}</a></li>
<li><a href="/deliveries/mails">${t.mailLog}</a></li>
<li><a href="/deliveries/dead-letters">${t.deadLetters}</a></li>
</ul></nav>`;
}

function endpointState(t: DeliveriesTexts, e: Endpoint) {
  if (e.status === 'disabled') return t.disabledBy[e.disabledReason ?? 'manual'];
  return e.failingSince
    ? html`${t.enabled}, <span class="error">${t.failingSince} ${when(e.failingSince)}</span>`
    : t.enabled;
}

export function webhooksPage(
  t: DeliveriesTexts,
  endpoints: readonly Endpoint[],
  form: { csrf: string } | null,
  eventTypes: readonly string[],
  message?: Notice,
): SafeHtml {
  return html`${deliveriesNav(t)}${notice(message)}
<h2>${t.webhooks}</h2>
${
  endpoints.length === 0
    ? html`<p>${t.none}</p>`
    : html`<div class="table-scroll" tabindex="0" role="region" aria-label="${t.webhooks}"><table>
<thead><tr><th scope="col">${t.url}</th><th scope="col">${t.description}</th><th scope="col">${t.eventTypes}</th><th scope="col">${t.state}</th></tr></thead>
<tbody>${endpoints.map(
        (e) => html`<tr><td><a href="/deliveries/webhooks/${e.id}">${e.url}</a></td><td>${e.description}</td>
<td>${e.eventTypes.includes('*') ? t.allEvents : e.eventTypes.join(', ')}</td><td>${endpointState(t, e)}</td></tr>`,
      )}</tbody></table></div>`
}
${
  form
    ? html`<h2>${t.create}</h2>
<form method="post" action="/deliveries/webhooks" class="stack">
  ${hidden(form.csrf)}
  <label for="wh-url">${t.url}</label>
  <input id="wh-url" name="url" type="url" required maxlength="2048" placeholder="https://">
  <label for="wh-description">${t.description}</label>
  <input id="wh-description" name="description" maxlength="500">
  <label for="wh-events">${t.eventTypes}</label>
  <select id="wh-events" name="eventType"><option value="*">${t.allEvents}</option>${eventTypes.map(
    (type) => html`<option value="${type}">${type}</option>`,
  )}</select>
  <button type="submit">${t.createButton}</button>
</form>`
    : ''
}`;
}

export function endpointPage(
  t: DeliveriesTexts,
  endpoint: Endpoint,
  messages: readonly Message[],
  forms: { csrf: string; manage: boolean; replaySince: string },
  message?: Notice,
): SafeHtml {
  const base = `/deliveries/webhooks/${endpoint.id}`;
  const since = forms.replaySince;
  return html`${deliveriesNav(t)}${notice(message)}
<p>${endpoint.description}</p>
<p>${t.state}: <strong>${endpointState(t, endpoint)}</strong></p>
<div class="actions">
<form method="post" action="${base}/test">${hidden(forms.csrf)}<button type="submit">${t.test}</button></form>
${
  forms.manage
    ? html`<form method="post" action="${base}/${endpoint.status === 'enabled' ? 'disable' : 'enable'}">${hidden(forms.csrf)}<button type="submit">${endpoint.status === 'enabled' ? t.disable : t.enable}</button></form>
<form method="post" action="${base}/rotate-secret">${hidden(forms.csrf)}<button type="submit">${t.rotate}</button></form>`
    : ''
}
</div>
<form method="post" action="${base}/replay" class="stack">
  ${hidden(forms.csrf)}
  <label for="replay-since">${t.replay}</label>
  <input id="replay-since" name="since" type="datetime-local" required value="${since}">
  <label><input type="checkbox" name="onlyFailed" value="true"> ${t.onlyFailed}</label>
  <button type="submit">${t.replayButton}</button>
</form>
<h2>${t.messages}</h2>
${
  messages.length === 0
    ? html`<p>${t.none}</p>`
    : html`<div class="table-scroll" tabindex="0" role="region" aria-label="${t.messages}"><table>
<thead><tr><th scope="col">${t.when}</th><th scope="col">${t.event}</th><th scope="col">${t.status}</th><th scope="col">${t.attempts}</th><th scope="col">${t.statusCode}</th></tr></thead>
<tbody>${messages.map(
        (
          m,
        ) => html`<tr><td><a href="/deliveries/messages/${m.id}">${when(m.createdAt)}</a></td><td>${shortType(m.eventType)}</td>
<td>${t.statuses[m.status] ?? m.status}</td><td>${m.attempts}</td><td>${m.lastStatusCode ?? m.lastError ?? ''}</td></tr>`,
      )}</tbody></table></div>`
}`;
}

export function messagePage(
  t: DeliveriesTexts,
  message: Message & { endpointId: string; attemptLog: Attempt[] },
  csrf: string,
  info?: Notice,
): SafeHtml {
  return html`${deliveriesNav(t)}${notice(info)}
<p><a href="/deliveries/webhooks/${message.endpointId}">${t.webhooks}</a></p>
<p>${t.event}: <strong>${shortType(message.eventType)}</strong> · ${t.status}: <strong id="message-status">${t.statuses[message.status] ?? message.status}</strong></p>
<form method="post" action="/deliveries/messages/${message.id}/retry">${hidden(csrf)}<button type="submit">${t.retry}</button></form>
<h2>${t.attemptLog}</h2>
${
  message.attemptLog.length === 0
    ? html`<p>${t.none}</p>`
    : html`<div class="table-scroll" tabindex="0" role="region" aria-label="${t.attemptLog}"><table>
<thead><tr><th scope="col">#</th><th scope="col">${t.when}</th><th scope="col">${t.statusCode}</th><th scope="col">${t.duration}</th><th scope="col">${t.error}</th></tr></thead>
<tbody>${message.attemptLog.map(
        (a) =>
          html`<tr><td>${a.attempt}</td><td>${when(a.startedAt)}</td><td>${a.statusCode ?? '—'}</td><td>${a.durationMs}</td><td>${a.error ?? ''}</td></tr>`,
      )}</tbody></table></div>`
}`;
}

export function mailsPage(
  t: DeliveriesTexts,
  meetings: readonly { id: string; title: string }[],
  filter: { meetingId?: string | undefined; recipient?: string | undefined },
  mails: readonly MailItem[] | null,
): SafeHtml {
  return html`${deliveriesNav(t)}
<form method="get" action="/deliveries/mails" class="stack" role="search">
  <label for="mail-meeting">${t.meeting}</label>
  <select id="mail-meeting" name="meetingId"><option value="">${t.allMeetings}</option>${meetings.map(
    (m) =>
      html`<option value="${m.id}"${m.id === filter.meetingId ? html` selected` : ''}>${m.title}</option>`,
  )}</select>
  <label for="mail-recipient">${t.person}</label>
  <input id="mail-recipient" name="recipient" type="email" value="${filter.recipient ?? ''}">
  <button type="submit">${t.show}</button>
</form>
${
  !mails || mails.length === 0
    ? html`<p>${t.none}</p>`
    : html`<div class="table-scroll" tabindex="0" role="region" aria-label="${t.mailLog}"><table>
<thead><tr><th scope="col">${t.when}</th><th scope="col">${t.to}</th><th scope="col">${t.kind}</th><th scope="col">${t.subject}</th><th scope="col">${t.status}</th><th scope="col">${t.attempts}</th><th scope="col">${t.error}</th></tr></thead>
<tbody>${mails.map(
        (
          m,
        ) => html`<tr><td>${when(m.createdAt)}</td><td>${m.recipient ?? t.erased}</td><td>${m.kind}</td><td>${m.subject}</td>
<td>${t.statuses[m.status] ?? m.status}</td><td>${m.attempts}</td><td>${m.lastError ?? ''}</td></tr>`,
      )}</tbody></table></div>`
}`;
}

export function deadLettersPage(
  t: DeliveriesTexts,
  letters: readonly { backend: Backend; items: readonly DeadLetter[] | null }[],
  csrf: string,
  info?: Notice,
): SafeHtml {
  return html`${deliveriesNav(t)}${notice(info)}
${letters.map(
  ({ backend, items }) => html`<section aria-labelledby="dl-${backend}">
<h2 id="dl-${backend}">${t.backends[backend]}</h2>
${
  items === null
    ? html`<p class="error">—</p>`
    : items.length === 0
      ? html`<p>${t.noDeadLetters}</p>`
      : html`<div class="table-scroll" tabindex="0" role="region" aria-label="${t.deadLetters}: ${t.backends[backend]}"><table>
<thead><tr><th scope="col">${t.since}</th><th scope="col">${t.consumer}</th><th scope="col">${t.event}</th><th scope="col">${t.error}</th><th scope="col">${t.attempts}</th><th scope="col"><span class="visually-hidden">${t.retry}</span></th></tr></thead>
<tbody>${items.map(
          (
            d,
          ) => html`<tr><td>${when(d.createdAt)}</td><td>${d.consumer}</td><td>${d.eventType ? shortType(d.eventType) : '—'}</td><td>${d.error}</td><td>${d.deliveries}</td>
<td><form method="post" action="/deliveries/dead-letters/${backend}/${d.id}/retry">${hidden(csrf)}<button type="submit" aria-label="${t.retry}: ${t.backends[backend]} ${d.id}">${t.retry}</button></form></td></tr>`,
        )}</tbody></table></div>`
}
</section>`,
)}`;
}
