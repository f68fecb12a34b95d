import type { MeetingTexts } from '../meetings/meeting.texts.ts';
import { html, type SafeHtml } from '../web/html.ts';

export interface AttendanceReport {
  meetings: { id: string; title: string; startsAt: string }[];
  deals: { dealId: string; name: string; meetingsRepresented: number; people: number }[];
  neverRepresented: { dealId: string; name: string }[];
  withoutDeal: number;
}

/**
 * Each deal as a bar: how many of the meetings it was represented at, out of all of them, with the number of
 * its people; deals never represented stand at zero, so the gaps are what the eye finds first.
 */
export function attendanceChart(mt: MeetingTexts, report: AttendanceReport): SafeHtml {
  const seen = new Set(report.deals.map((d) => d.dealId));
  const rows = [
    ...report.deals,
    ...report.neverRepresented
      .filter((d) => !seen.has(d.dealId))
      .map((d) => ({ ...d, meetingsRepresented: 0, people: 0 })),
  ].sort((a, b) => b.meetingsRepresented - a.meetingsRepresented || a.name.localeCompare(b.name));
  if (rows.length === 0) return html`<p>${mt.noDeals}</p>`;
  const total = Math.max(1, report.meetings.length);
  const rowHeight = 30;
  const labelWidth = 190;
  const barSpace = 200;
  const name = (n: string) => (n.length > 26 ? `${n.slice(0, 25)}…` : n);
  const summary = rows
    .map((r) => `${r.name}: ${r.meetingsRepresented} ${mt.of} ${report.meetings.length}`)
    .join(', ');
  return html`<figure class="chart">
<svg viewBox="0 0 ${labelWidth + barSpace + 110} ${rows.length * rowHeight}" role="img" aria-labelledby="attendance-chart-title">
<title id="attendance-chart-title">${mt.attendancePerDeal}: ${summary}</title>
${rows.map((r, i) => {
  const width = Math.round((r.meetingsRepresented / total) * barSpace);
  return html`<g>
  <text x="0" y="${i * rowHeight + 20}">${name(r.name)}</text>
  <rect x="${labelWidth}" y="${i * rowHeight + 6}" height="${rowHeight - 12}" width="${barSpace}" class="track"></rect>
  <rect x="${labelWidth}" y="${i * rowHeight + 6}" height="${rowHeight - 12}" width="${width}"></rect>
  <text x="${labelWidth + barSpace + 6}" y="${i * rowHeight + 20}">${r.meetingsRepresented}/${report.meetings.length} · ${r.people}</text>
</g>`;
})}
</svg>
<figcaption>${mt.attendancePerDeal}: ${mt.meetingsRepresented} (${mt.of} ${report.meetings.length}) · ${mt.attendees}</figcaption>
</figure>`;
}
