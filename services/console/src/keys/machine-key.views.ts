import { type Notice, notice } from '../people/people.views.ts';
import { html, type SafeHtml } from '../web/html.ts';
import type { KeysTexts } from './keys.texts.ts';
import { keyBackends, keyScopes, type MachineKeyView, machineSystems } from './machine-key.rules.ts';

const when = (d: Date | string | null) =>
  d ? new Date(d).toLocaleString('nl-NL', { timeZone: 'Europe/Amsterdam' }) : null;

export function keysPage(
  t: KeysTexts,
  keys: readonly MachineKeyView[],
  csrf: string,
  message?: Notice,
): SafeHtml {
  const systemName = (s: string) => t.systems[s as keyof KeysTexts['systems']] ?? s;
  return html`${notice(message)}
<p>${t.intro}</p>
<p><a href="/people">${t.peopleLink}</a></p>
<div class="table-scroll" tabindex="0" role="region" aria-label="${t.title}">
<table>
<thead><tr><th scope="col">${t.system}</th><th scope="col">${t.scopes}</th><th scope="col">${t.lastUsed}</th><th scope="col">${t.perService}</th><th scope="col">${t.state}</th></tr></thead>
<tbody>${keys.map(
    (k) => html`<tr data-key="${k.id}">
<td><strong>${systemName(k.system)}</strong><br>${k.label}<br><small>${t.createdBy}: ${k.createdBy}, ${when(k.createdAt)}</small></td>
<td>${k.scopes.map((s) => t.scopeNames[s as keyof KeysTexts['scopeNames']] ?? s).join(', ')}</td>
<td>${when(k.lastUsedAt) ?? t.never}</td>
<td><ul class="plain">${keyBackends.map((b) => {
      const s = k.services[b];
      const state =
        s === 'unknown' ? t.unknown : s === 'missing' ? t.missing : s.revokedAt ? t.revoked : t.live;
      return html`<li>${t.backends[b]}: ${state}</li>`;
    })}</ul></td>
<td>${
      k.revoked
        ? html`${t.revoked}${k.revokedBy ? html`<br><small>${k.revokedBy}</small>` : ''}`
        : html`${t.live}<form method="post" action="/keys/${k.id}/revoke" class="inline">
  <input type="hidden" name="_csrf" value="${csrf}">
  <button type="submit" aria-label="${t.revoke}: ${systemName(k.system)} ${k.label}">${t.revoke}</button>
</form>`
    }</td>
</tr>`,
  )}</tbody>
</table>
</div>
<h2>${t.issue}</h2>
<form method="post" action="/keys" class="stack">
  <input type="hidden" name="_csrf" value="${csrf}">
  <label for="key-system">${t.system}</label>
  <select id="key-system" name="system">${machineSystems.map((s) => html`<option value="${s}">${t.systems[s]}</option>`)}</select>
  <label for="key-label">${t.label}</label>
  <input id="key-label" name="label" required maxlength="80" autocomplete="off">
  <label for="key-scope">${t.scopes}</label>
  <select id="key-scope" name="scope">${keyScopes.map((s) => html`<option value="${s}">${t.scopeNames[s]}</option>`)}</select>
  <button type="submit">${t.issueButton}</button>
</form>`;
}
