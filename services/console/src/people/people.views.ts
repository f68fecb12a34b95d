import { staffRoles } from '@citydeals/service-kit';
import { html, type SafeHtml } from '../web/html.ts';
import type { PeopleTexts } from './people.texts.ts';

export interface PersonRow {
  id: string;
  email: string;
  name: string;
  role: (typeof staffRoles)[number];
  disabled_at: Date | null;
  locked_until: Date | null;
}

export type Notice = { kind: 'ok' | 'error'; text: string; secret?: string | undefined };

export function notice(message: Notice | undefined): SafeHtml | '' {
  if (!message) return '';
  return html`<div class="${message.kind}" role="${message.kind === 'error' ? 'alert' : 'status'}"><p>${message.text}</p>${
    message.secret ? html`<p><code class="secret">${message.secret}</code></p>` : ''
  }</div>`;
}

export function peoplePage(
  t: PeopleTexts,
  people: readonly PersonRow[],
  csrf: string,
  now: Date,
  message?: Notice,
): SafeHtml {
  const roleOptions = (selected?: string) =>
    staffRoles.map(
      (r) => html`<option value="${r}"${r === selected ? html` selected` : ''}>${t.roles[r]}</option>`,
    );
  return html`${notice(message)}
<p><a href="/keys">${t.keysLink}</a></p>
<div class="table-scroll" tabindex="0" role="region" aria-label="${t.title}">
<table>
<thead><tr><th scope="col">${t.name}</th><th scope="col">${t.email}</th><th scope="col">${t.role}</th><th scope="col">${t.state}</th><th scope="col"><span class="visually-hidden">${t.change}</span></th></tr></thead>
<tbody>${people.map(
    (p) => html`<tr>
<td>${p.name}</td><td>${p.email}</td>
<td><form method="post" action="/people/${p.id}/role" class="inline">
  <input type="hidden" name="_csrf" value="${csrf}">
  <label class="visually-hidden" for="role-${p.id}">${t.changeRoleOf} ${p.name}</label>
  <select id="role-${p.id}" name="role">${roleOptions(p.role)}</select>
  <button type="submit">${t.change}</button>
</form></td>
<td>${p.disabled_at ? t.disabled : p.locked_until && p.locked_until > now ? t.locked : t.active}</td>
<td><form method="post" action="/people/${p.id}/${p.disabled_at ? 'enable' : 'disable'}" class="inline">
  <input type="hidden" name="_csrf" value="${csrf}">
  <button type="submit" aria-label="${p.disabled_at ? t.enable : t.disable}: ${p.name}">${p.disabled_at ? t.enable : t.disable}</button>
</form></td>
</tr>`,
  )}</tbody>
</table>
</div>
<h2>${t.add}</h2>
<form method="post" action="/people" class="stack">
  <input type="hidden" name="_csrf" value="${csrf}">
  <label for="new-name">${t.name}</label>
  <input id="new-name" name="name" required maxlength="120" autocomplete="off">
  <label for="new-email">${t.email}</label>
  <input id="new-email" name="email" type="email" required maxlength="254" autocomplete="off">
  <label for="new-role">${t.role}</label>
  <select id="new-role" name="role">${roleOptions('lezer')}</select>
  <p>${t.ssoHint}</p>
  <button type="submit">${t.create}</button>
</form>`;
}
