import { activeDealPhases } from '@citydeals/contracts';
import { problems } from '@citydeals/service-kit';
import type { ServiceContext } from '../context.ts';
import type { RegistrationStatusColumn } from '../db/database.ts';
import { findMeeting } from '../meetings/meeting.repository.ts';
import { answerColumns } from '../questions/question.service.ts';
import { listRegistrations, type RegistrationFilter } from '../registrations/registration.repository.ts';
import { meetingYear, summariseAttendance } from './attendance.rules.ts';
import { toCsv } from './csv.rules.ts';
import {
  allDeals,
  countsPerMeetingAndDeal,
  dealsWithoutRegistration,
  heldMeetings,
} from './report.repository.ts';

const statusLabels: Record<RegistrationStatusColumn, string> = {
  confirmed: 'bevestigd',
  waitlisted: 'wachtlijst',
  cancelled: 'afgemeld',
  checked_in: 'aanwezig',
  no_show: 'niet verschenen',
};

const CSV_HEADER = [
  'Naam',
  'E-mail',
  'Organisatie',
  'Rol',
  'Deal',
  'Status',
  'Wachtlijstpositie',
  'Dieetwensen',
  'Toegankelijkheid',
  'Toestemming foto',
  'Naam op deelnemerslijst',
  'Aangemeld op',
  'Ingecheckt op',
];

/** Local wall-clock time, as the office reads it in Excel. */
function localTime(date: Date | null, timeZone: string): string | null {
  if (!date) return null;
  return new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'short' }).format(date);
}

export async function attendeeCsv(
  ctx: ServiceContext,
  meetingId: string,
  filter: RegistrationFilter,
): Promise<{ filename: string; body: string }> {
  const meeting = await findMeeting(ctx.db, meetingId);
  if (!meeting) throw problems.notFound(`meeting ${meetingId}`);
  const rows = await listRegistrations(ctx.db, meetingId, filter);
  const questions = await answerColumns(ctx.db, meetingId);
  const body = toCsv(
    [...CSV_HEADER, ...questions.header],
    rows.map((r) => [
      r.name,
      r.email,
      r.organisation,
      r.role,
      r.deal_name,
      statusLabels[r.status],
      r.position,
      r.dietary_needs,
      r.accessibility_needs,
      r.consent_photo,
      r.consent_attendee_list,
      localTime(r.created_at, meeting.time_zone),
      localTime(r.checked_in_at, meeting.time_zone),
      ...questions.cells(r.id),
    ]),
  );
  return { filename: `aanmeldingen-${meeting.slug}.csv`, body };
}

export type RepresentationBasis = 'attendance' | 'registration';

/**
 * Active deals nobody came for. Before the meeting starts "represented" means someone holds a seat; from
 * the start on it means someone was checked in, unless the caller asks otherwise.
 */
export async function dealsNotRepresented(
  ctx: ServiceContext,
  meetingId: string,
  basis?: RepresentationBasis,
) {
  const meeting = await findMeeting(ctx.db, meetingId);
  if (!meeting) throw problems.notFound(`meeting ${meetingId}`);
  const started = ctx.clock.now().getTime() >= meeting.starts_at.getTime();
  const chosen: RepresentationBasis = basis ?? (started ? 'attendance' : 'registration');
  const statuses: RegistrationStatusColumn[] =
    chosen === 'attendance' ? ['checked_in'] : ['confirmed', 'checked_in'];
  const deals = await dealsWithoutRegistration(ctx.db, meetingId, statuses);
  return {
    meetingId,
    basis: chosen,
    items: deals.map((d) => ({ dealId: d.id, name: d.name, kind: d.kind, phase: d.phase })),
  };
}

export interface AttendanceQuery {
  from?: number | undefined;
  to?: number | undefined;
  basis: RepresentationBasis;
  rarelyAtMost: number;
}

/**
 * Attendance per deal over the meetings held in the years asked (all years when none): `attendance` counts
 * people checked in at the door, `registration` everyone who held a seat (also those who did not come).
 */
export async function attendanceReport(ctx: ServiceContext, query: AttendanceQuery) {
  const held = await heldMeetings(ctx.db, ctx.clock.now());
  const meetings = held
    .map((m) => ({ id: m.id, title: m.title, startsAt: m.starts_at, timeZone: m.time_zone }))
    .filter((m) => {
      const year = meetingYear(m);
      return (query.from === undefined || year >= query.from) && (query.to === undefined || year <= query.to);
    });
  const statuses: RegistrationStatusColumn[] =
    query.basis === 'attendance' ? ['checked_in'] : ['confirmed', 'checked_in', 'no_show'];
  const [counts, deals] = await Promise.all([
    countsPerMeetingAndDeal(
      ctx.db,
      meetings.map((m) => m.id),
      statuses,
    ),
    allDeals(ctx.db),
  ]);
  const summary = summariseAttendance(
    meetings,
    counts.map((c) => ({ meetingId: c.meeting_id, dealId: c.deal_id, people: Number(c.people) })),
    deals.map((d) => ({ ...d, active: (activeDealPhases as readonly string[]).includes(d.phase) })),
    query.rarelyAtMost,
  );
  return {
    from: query.from ?? null,
    to: query.to ?? null,
    basis: query.basis,
    ...summary,
    meetings: summary.meetings.map((m) => ({ ...m, startsAt: m.startsAt.toISOString() })),
  };
}

/** The same as CSV for Excel: one row per deal, with a pair of columns per year. */
export async function attendanceCsv(ctx: ServiceContext, query: AttendanceQuery) {
  const report = await attendanceReport(ctx, query);
  const years = [...new Set(report.meetings.map((m) => m.year))];
  const header = [
    'Deal',
    'Soort',
    'Fase',
    `Bijeenkomsten vertegenwoordigd (van ${report.meetings.length})`,
    query.basis === 'attendance' ? 'Aanwezigen' : 'Aanmeldingen',
    ...years.flatMap((y) => [`${y}: bijeenkomsten`, `${y}: personen`]),
  ];
  const rows = report.deals.map((d) => [
    d.name,
    d.kind,
    d.phase,
    d.meetingsRepresented,
    d.people,
    ...d.perYear.flatMap((y) => [`${y.meetingsRepresented} van ${y.meetings}`, y.people]),
  ]);
  const span = report.from || report.to ? `-${report.from ?? ''}-${report.to ?? ''}` : '';
  return { filename: `aanwezigheid-per-deal${span}.csv`, body: toCsv(header, rows) };
}
