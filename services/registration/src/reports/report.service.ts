import { problems } from '@citydeals/service-kit';
import type { ServiceContext } from '../context.ts';
import type { RegistrationStatusColumn } from '../db/database.ts';
import { findMeeting } from '../meetings/meeting.repository.ts';
import { listRegistrations, type RegistrationFilter } from '../registrations/registration.repository.ts';
import { toCsv } from './csv.rules.ts';
import { dealsWithoutRegistration } from './report.repository.ts';

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
  const body = toCsv(
    CSV_HEADER,
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
