import { html, type SafeHtml } from '../web/html.ts';

/**
 * Registrations over time as a line in SVG, drawn on the server: attributes only, no inline style or script,
 * so it passes the Content-Security-Policy; the title carries the figures for screen readers.
 */
export function registrationsChart(
  title: string,
  points: readonly { day: string; total: number }[],
): SafeHtml {
  const width = 360;
  const height = 160;
  const left = 36;
  const bottom = 24;
  const max = Math.max(1, ...points.map((p) => p.total));
  const span = Math.max(1, points.length - 1);
  const x = (i: number) => Math.round(left + (i / span) * (width - left - 8));
  const y = (v: number) => Math.round(height - bottom - (v / max) * (height - bottom - 8));
  const line = points.map((p, i) => `${x(i)},${y(p.total)}`).join(' ');
  const first = points[0];
  const last = points[points.length - 1];
  const summary = first && last ? `${last.total} (${first.day} – ${last.day})` : '0';
  return html`<figure class="chart">
<svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="registrations-chart-title">
<title id="registrations-chart-title">${title}: ${summary}</title>
<line x1="${left}" y1="${height - bottom}" x2="${width - 8}" y2="${height - bottom}"></line>
<line x1="${left}" y1="8" x2="${left}" y2="${height - bottom}"></line>
<text x="0" y="14">${max}</text>
<text x="0" y="${height - bottom}">0</text>
${first ? html`<text x="${left}" y="${height - 6}">${first.day}</text>` : ''}
${last && points.length > 1 ? html`<text x="${width - 8}" y="${height - 6}" text-anchor="end">${last.day}</text>` : ''}
${points.length > 1 ? html`<polyline points="${line}"></polyline>` : ''}
${points.map((p, i) => html`<circle cx="${x(i)}" cy="${y(p.total)}" r="3"></circle>`)}
</svg>
<figcaption>${title}</figcaption>
</figure>`;
}
