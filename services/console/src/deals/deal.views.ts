import { type DealPhase, dealPhases, dealPhaseTransitions } from '@citydeals/contracts';
import { html, type SafeHtml } from '../web/html.ts';
import type { Texts } from '../web/texts.ts';

export interface DealSummary {
  id: string;
  slug: string;
  name: string;
  phase: DealPhase;
  version: number;
}

export interface HistoryItem {
  version: number;
  subject: string;
  actor: { type: string; id: string; name: string | null };
  occurredAt: string;
  data: { reason?: string; from?: string; to?: string };
}

export function countByPhase(deals: readonly DealSummary[]): { phase: DealPhase; count: number }[] {
  return dealPhases.map((phase) => ({ phase, count: deals.filter((d) => d.phase === phase).length }));
}

/** A bar per phase as SVG attributes, not inline styles: the CSP allows no style attributes. */
export function phaseChart(t: Texts, deals: readonly DealSummary[]): SafeHtml {
  const rows = countByPhase(deals);
  const max = Math.max(1, ...rows.map((r) => r.count));
  const rowHeight = 28;
  const labelWidth = 120;
  const barSpace = 220;
  const summary = rows.map((r) => `${t.phases[r.phase]}: ${r.count}`).join(', ');
  return html`<figure class="chart">
<svg viewBox="0 0 ${labelWidth + barSpace + 40} ${rows.length * rowHeight}" role="img" aria-labelledby="phase-chart-title">
<title id="phase-chart-title">${t.dealsByPhase}: ${summary}</title>
${rows.map(
  (r, i) => html`<g class="phase-${r.phase}">
  <text x="0" y="${i * rowHeight + 19}">${t.phases[r.phase]}</text>
  <rect x="${labelWidth}" y="${i * rowHeight + 5}" height="${rowHeight - 10}" width="${Math.round((r.count / max) * barSpace)}"></rect>
  <text x="${labelWidth + Math.round((r.count / max) * barSpace) + 6}" y="${i * rowHeight + 19}">${r.count}</text>
</g>`,
)}
</svg>
<figcaption>${t.dealsByPhase}</figcaption>
</figure>`;
}

export function dealList(t: Texts, deals: readonly DealSummary[]): SafeHtml {
  return html`${countByPhase(deals)
    .filter((r) => r.count > 0)
    .map(
      ({ phase }) => html`<section aria-labelledby="phase-${phase}">
<h2 id="phase-${phase}">${t.phases[phase]}</h2>
<ul class="deals">${deals
        .filter((d) => d.phase === phase)
        .map((d) => html`<li><a href="/deals/${d.id}">${d.name}</a></li>`)}</ul>
</section>`,
    )}`;
}

export function dealPage(
  t: Texts,
  deal: DealSummary,
  history: readonly HistoryItem[],
  form: { csrfToken: string } | null,
  message?: { kind: 'ok' | 'error'; text: string },
): SafeHtml {
  const allowed = dealPhaseTransitions[deal.phase];
  const when = (iso: string) => new Date(iso).toLocaleString('nl-NL', { timeZone: 'Europe/Amsterdam' });
  return html`${message ? html`<p class="${message.kind}" role="${message.kind === 'error' ? 'alert' : 'status'}">${message.text}</p>` : ''}
<p>${t.phase}: <strong>${t.phases[deal.phase]}</strong></p>
${
  form
    ? allowed.length === 0
      ? html`<p>${t.noMoves}</p>`
      : html`<form method="post" action="/deals/${deal.id}/transitions" class="stack">
  <input type="hidden" name="_csrf" value="${form.csrfToken}">
  <input type="hidden" name="version" value="${deal.version}">
  <label for="to">${t.moveTo}</label>
  <select id="to" name="to" required>${allowed.map((p) => html`<option value="${p}">${t.phases[p]}</option>`)}</select>
  <label for="reason">${t.reason}</label>
  <textarea id="reason" name="reason" required maxlength="2000" rows="3"></textarea>
  <button type="submit">${t.move}</button>
</form>`
    : ''
}
<h2>${t.history}</h2>
<div class="table-scroll">
<table>
<thead><tr><th scope="col">${t.when}</th><th scope="col">${t.who}</th><th scope="col">${t.what}</th><th scope="col">${t.why}</th></tr></thead>
<tbody>${[...history]
    .reverse()
    .map(
      (h) =>
        html`<tr><td>${when(h.occurredAt)}</td><td>${h.actor.name ?? h.actor.id}</td><td>${h.subject.replace('deal_tracking.deal.', '')}${h.data.to ? html` → ${t.phases[h.data.to as DealPhase] ?? h.data.to}` : ''}</td><td>${h.data.reason ?? ''}</td></tr>`,
    )}</tbody>
</table>
</div>`;
}
