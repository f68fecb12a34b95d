import {
  type MeetingField,
  type MeetingSnapshot,
  meetingCancelled,
  meetingRescheduled,
  meetingScheduled,
  meetingUpdated,
} from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import { HttpProblem, problems } from '@citydeals/service-kit';
import type { Transaction } from 'kysely';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { withdrawMeetingOffers } from '../offers/offer.repository.ts';
import {
  findMeeting,
  findMeetingBySlug,
  insertMeeting,
  listMeetings,
  lockMeeting,
  type MeetingRow,
  updateMeeting,
} from './meeting.repository.ts';
import {
  changedFields,
  registrationWindow,
  resolveInstant,
  validateMeetingTimes,
  validateReminderOffsets,
} from './meeting.rules.ts';
import type { AdminMeeting, CreateMeetingInput, EditMeetingInput, PublicMeeting } from './meeting.schemas.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function meetingSnapshot(row: MeetingRow): MeetingSnapshot {
  return {
    meetingId: row.id,
    version: row.version,
    title: row.title,
    slug: row.slug,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    timeZone: row.time_zone,
    venue: { name: row.venue_name, address: row.venue_address },
    onlineUrl: row.online_url,
    language: row.language,
    reminderOffsets: row.reminder_offsets,
    status: row.status,
    capacity: row.capacity,
    icsSequence: row.ics_sequence,
  };
}

function registrationState(row: MeetingRow, now: Date) {
  return {
    state: registrationWindow(
      {
        status: row.status,
        startsAt: row.starts_at,
        endsAt: row.ends_at,
        registrationOpensAt: row.registration_opens_at,
        registrationClosesAt: row.registration_closes_at,
      },
      now,
    ),
    opensAt: iso(row.registration_opens_at),
    closesAt: iso(row.registration_closes_at ?? row.starts_at),
  };
}

/**
 * From the meeting row's counters, which every seat change keeps exact: counting the registrations instead
 * made every read of a meeting slower the more people had registered.
 */
function seats(row: MeetingRow) {
  return {
    capacity: row.capacity,
    confirmed: row.seats_taken,
    // A seat held by an open waitlist offer is not available.
    available: Math.max(0, row.capacity - row.seats_taken - row.seats_offered),
    waitlisted: row.waitlist_length,
  };
}

export function toAdminMeeting(row: MeetingRow, now: Date): AdminMeeting {
  return {
    id: row.id,
    version: row.version,
    slug: row.slug,
    title: row.title,
    description: row.description,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    timeZone: row.time_zone,
    venue: { name: row.venue_name, address: row.venue_address },
    onlineUrl: row.online_url,
    capacity: row.capacity,
    registrationOpensAt: iso(row.registration_opens_at),
    registrationClosesAt: iso(row.registration_closes_at),
    language: row.language,
    agenda: row.agenda as AdminMeeting['agenda'],
    reminderOffsets: row.reminder_offsets,
    addressConfirmation: row.address_confirmation,
    waitlistPromotion: row.waitlist_promotion,
    offerHours: row.offer_hours,
    status: row.status,
    icsSequence: row.ics_sequence,
    cancelReason: row.cancel_reason,
    registration: registrationState(row, now),
    seats: seats(row),
  };
}

export function toPublicMeeting(row: MeetingRow, now: Date): PublicMeeting {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    description: row.description,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    timeZone: row.time_zone,
    venueName: row.venue_name,
    online: row.online_url !== null,
    addressConfirmation: row.address_confirmation,
    language: row.language,
    agenda: row.agenda as PublicMeeting['agenda'],
    status: row.status,
    registration: registrationState(row, now),
    seats: seats(row),
  };
}

function validationProblem(errors: { field: string; message: string }[]): never {
  throw problems.validation(errors);
}

function slugTaken(slug: string): HttpProblem {
  return problems.conflict(`slug ${slug} is already used by another meeting`, {
    errors: [{ field: 'body.slug', message: 'already used by another meeting' }],
  });
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '23505';
}

function ensureEditable(row: MeetingRow): void {
  if (row.status === 'cancelled') {
    throw new HttpProblem(409, 'meeting-cancelled', 'Meeting cancelled', `meeting ${row.id} is cancelled`);
  }
}

async function lockOrNotFound(trx: Transaction<Database>, id: string): Promise<MeetingRow> {
  const row = await lockMeeting(trx, id);
  if (!row) throw problems.notFound(`meeting ${id}`);
  return row;
}

/** Locks a meeting an admin may still change: 404 if there is none, 409 if it is cancelled. */
export async function lockEditableMeeting(trx: Transaction<Database>, id: string): Promise<MeetingRow> {
  const row = await lockOrNotFound(trx, id);
  ensureEditable(row);
  return row;
}

async function adminView(ctx: ServiceContext, id: string): Promise<AdminMeeting> {
  const row = await findMeeting(ctx.db, id);
  if (!row) throw problems.notFound(`meeting ${id}`);
  return toAdminMeeting(row, ctx.clock.now());
}

export async function createMeeting(ctx: ServiceContext, input: CreateMeetingInput): Promise<AdminMeeting> {
  const tz = input.timeZone;
  const times = {
    startsAt: resolveInstant(input.startsAt, tz),
    endsAt: resolveInstant(input.endsAt, tz),
    registrationOpensAt: input.registrationOpensAt ? resolveInstant(input.registrationOpensAt, tz) : null,
    registrationClosesAt: input.registrationClosesAt ? resolveInstant(input.registrationClosesAt, tz) : null,
  };
  const errors = [
    ...validateMeetingTimes(times),
    ...validateReminderOffsets(input.reminderOffsets, 'body.reminderOffsets'),
  ];
  if (errors.length > 0) validationProblem(errors);
  const now = ctx.clock.now();
  const id = ctx.newId();
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await insertMeeting(trx, {
        id,
        version: 1,
        status: input.status,
        title: input.title,
        slug: input.slug,
        description: input.description,
        starts_at: times.startsAt,
        ends_at: times.endsAt,
        time_zone: tz,
        venue_name: input.venue.name,
        venue_address: input.venue.address,
        online_url: input.onlineUrl,
        capacity: input.capacity,
        registration_opens_at: times.registrationOpensAt,
        registration_closes_at: times.registrationClosesAt,
        language: input.language,
        agenda: JSON.stringify(input.agenda),
        reminder_offsets: input.reminderOffsets,
        address_confirmation: input.addressConfirmation,
        waitlist_promotion: input.waitlistPromotion,
        offer_hours: input.offerHours,
        ics_sequence: 0,
        cancel_reason: null,
        published_at: input.status === 'published' ? now : null,
        cancelled_at: null,
        updated_at: now,
      });
      const row = (await lockMeeting(trx, id))!;
      await enqueueEvent(trx, meetingScheduled, {
        id: ctx.newId(),
        time: now,
        source: EVENT_SOURCE,
        subject: id,
        data: { ...meetingSnapshot(row), version: 1, status: input.status },
      });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw slugTaken(input.slug);
    throw err;
  }
  return adminView(ctx, id);
}

const EDITABLE: Record<keyof EditMeetingInput, MeetingField> = {
  title: 'title',
  slug: 'slug',
  description: 'description',
  timeZone: 'timeZone',
  venue: 'venue',
  onlineUrl: 'onlineUrl',
  language: 'language',
  agenda: 'agenda',
  reminderOffsets: 'reminderOffsets',
  addressConfirmation: 'addressConfirmation',
  waitlistPromotion: 'waitlistPromotion',
  offerHours: 'waitlistPromotion',
  registrationOpensAt: 'registrationWindow',
  registrationClosesAt: 'registrationWindow',
};

/** Fields shown in calendar files (times move by rescheduling, which raises the SEQUENCE too). */
const CALENDAR_FIELDS: ReadonlySet<MeetingField> = new Set(['title', 'venue', 'onlineUrl']);

/** Applies an edit; an edit that changes nothing is not a change and publishes nothing. */
export async function editMeeting(
  ctx: ServiceContext,
  id: string,
  input: EditMeetingInput,
): Promise<AdminMeeting> {
  if (input.reminderOffsets) {
    const errors = validateReminderOffsets(input.reminderOffsets, 'body.reminderOffsets');
    if (errors.length > 0) validationProblem(errors);
  }
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const row = await lockOrNotFound(trx, id);
      ensureEditable(row);
      const tz = input.timeZone ?? row.time_zone;
      const instant = (v: string | null | undefined, current: Date | null) =>
        v === undefined ? current : v === null ? null : resolveInstant(v, tz);
      const next = {
        title: input.title ?? row.title,
        slug: input.slug ?? row.slug,
        description: input.description === undefined ? row.description : input.description,
        timeZone: tz,
        venue: input.venue ?? { name: row.venue_name, address: row.venue_address },
        onlineUrl: input.onlineUrl === undefined ? row.online_url : input.onlineUrl,
        language: input.language ?? row.language,
        agenda: input.agenda ?? row.agenda,
        reminderOffsets: input.reminderOffsets ?? row.reminder_offsets,
        addressConfirmation: input.addressConfirmation ?? row.address_confirmation,
        waitlistPromotion: [
          input.waitlistPromotion ?? row.waitlist_promotion,
          input.offerHours ?? row.offer_hours,
        ] as const,
        registrationWindow: [
          instant(input.registrationOpensAt, row.registration_opens_at)?.toISOString() ?? null,
          instant(input.registrationClosesAt, row.registration_closes_at)?.toISOString() ?? null,
        ],
      };
      const before = {
        title: row.title,
        slug: row.slug,
        description: row.description,
        timeZone: row.time_zone,
        venue: { name: row.venue_name, address: row.venue_address },
        onlineUrl: row.online_url,
        language: row.language,
        agenda: row.agenda,
        reminderOffsets: row.reminder_offsets,
        addressConfirmation: row.address_confirmation,
        waitlistPromotion: [row.waitlist_promotion, row.offer_hours] as const,
        registrationWindow: [iso(row.registration_opens_at), iso(row.registration_closes_at)],
      };
      const fields = changedFields(before, next, [
        ...new Set(Object.values(EDITABLE)),
      ] as (keyof typeof next)[]);
      if (fields.length === 0) return;
      const [opensAt, closesAt] = next.registrationWindow.map((v) => (v ? new Date(v) : null)) as [
        Date | null,
        Date | null,
      ];
      const errors = validateMeetingTimes({
        startsAt: row.starts_at,
        endsAt: row.ends_at,
        registrationOpensAt: opensAt,
        registrationClosesAt: closesAt,
      });
      if (errors.length > 0) validationProblem(errors);
      const now = ctx.clock.now();
      // Attendees' calendars show these: a change is a new version of the calendar entry (RFC 5546).
      const calendarChanged = fields.some((f) => CALENDAR_FIELDS.has(f as MeetingField));
      await updateMeeting(trx, id, {
        version: row.version + 1,
        ics_sequence: calendarChanged ? row.ics_sequence + 1 : row.ics_sequence,
        title: next.title,
        slug: next.slug,
        description: next.description,
        time_zone: next.timeZone,
        venue_name: next.venue.name,
        venue_address: next.venue.address,
        online_url: next.onlineUrl,
        language: next.language,
        agenda: JSON.stringify(next.agenda),
        reminder_offsets: next.reminderOffsets,
        address_confirmation: next.addressConfirmation,
        waitlist_promotion: next.waitlistPromotion[0],
        offer_hours: next.waitlistPromotion[1],
        registration_opens_at: opensAt,
        registration_closes_at: closesAt,
        updated_at: now,
      });
      await publishUpdated(trx, ctx, id, fields as MeetingField[]);
    });
  } catch (err) {
    if (isUniqueViolation(err) && input.slug) throw slugTaken(input.slug);
    throw err;
  }
  return adminView(ctx, id);
}

/** Announces the meeting as it now is; the caller holds its lock and has changed `fields`. */
export async function publishUpdated(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  id: string,
  fields: MeetingField[],
) {
  const row = (await lockMeeting(trx, id))!;
  if (row.status === 'cancelled') throw new Error('an update event cannot announce a cancelled meeting');
  await enqueueEvent(trx, meetingUpdated, {
    id: ctx.newId(),
    time: ctx.clock.now(),
    source: EVENT_SOURCE,
    subject: id,
    data: { ...meetingSnapshot(row), status: row.status, changedFields: fields },
  });
}

export async function publishMeeting(ctx: ServiceContext, id: string): Promise<AdminMeeting> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await lockOrNotFound(trx, id);
    ensureEditable(row);
    if (row.status === 'published') return;
    const now = ctx.clock.now();
    await updateMeeting(trx, id, {
      version: row.version + 1,
      status: 'published',
      published_at: row.published_at ?? now,
      updated_at: now,
    });
    await publishUpdated(trx, ctx, id, ['status']);
  });
  return adminView(ctx, id);
}

export async function rescheduleMeeting(
  ctx: ServiceContext,
  id: string,
  input: { startsAt: string; endsAt: string },
): Promise<AdminMeeting> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await lockOrNotFound(trx, id);
    ensureEditable(row);
    const startsAt = resolveInstant(input.startsAt, row.time_zone);
    const endsAt = resolveInstant(input.endsAt, row.time_zone);
    if (startsAt.getTime() === row.starts_at.getTime() && endsAt.getTime() === row.ends_at.getTime()) return;
    const errors = validateMeetingTimes({
      startsAt,
      endsAt,
      registrationOpensAt: row.registration_opens_at,
      registrationClosesAt: row.registration_closes_at,
    });
    if (errors.length > 0) validationProblem(errors);
    const now = ctx.clock.now();
    await updateMeeting(trx, id, {
      version: row.version + 1,
      starts_at: startsAt,
      ends_at: endsAt,
      ics_sequence: row.ics_sequence + 1,
      updated_at: now,
    });
    const after = (await lockMeeting(trx, id))!;
    await enqueueEvent(trx, meetingRescheduled, {
      id: ctx.newId(),
      time: now,
      source: EVENT_SOURCE,
      subject: id,
      data: {
        ...meetingSnapshot(after),
        status: after.status as 'draft' | 'published',
        previousStartsAt: row.starts_at.toISOString(),
        previousEndsAt: row.ends_at.toISOString(),
      },
    });
  });
  return adminView(ctx, id);
}

/**
 * Registrations stay as they are: the cancellation event tells attendees and drops their reminders. Open
 * waitlist offers are withdrawn in the same transaction, so no link accepts a seat of a cancelled meeting
 * and the offer page says why at once.
 */
export async function cancelMeeting(
  ctx: ServiceContext,
  id: string,
  reason: string | null,
): Promise<AdminMeeting> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await lockOrNotFound(trx, id);
    if (row.status === 'cancelled') return;
    const now = ctx.clock.now();
    await updateMeeting(trx, id, {
      version: row.version + 1,
      status: 'cancelled',
      // The cancellation supersedes the last invitation, so calendars must see a higher SEQUENCE.
      ics_sequence: row.ics_sequence + 1,
      cancel_reason: reason,
      cancelled_at: now,
      updated_at: now,
    });
    await withdrawMeetingOffers(trx, id, now);
    const after = (await lockMeeting(trx, id))!;
    await enqueueEvent(trx, meetingCancelled, {
      id: ctx.newId(),
      time: now,
      source: EVENT_SOURCE,
      subject: id,
      data: { ...meetingSnapshot(after), status: 'cancelled', reason },
    });
  });
  return adminView(ctx, id);
}

export async function getAdminMeeting(ctx: ServiceContext, id: string): Promise<AdminMeeting> {
  return adminView(ctx, id);
}

export async function listAdminMeetings(
  ctx: ServiceContext,
  filter: { status?: MeetingRow['status'] | undefined; includePast: boolean },
): Promise<AdminMeeting[]> {
  const now = ctx.clock.now();
  const rows = await listMeetings(ctx.db, {
    statuses: filter.status ? [filter.status] : ['draft', 'published', 'cancelled'],
    endedAfter: filter.includePast ? null : now,
  });
  return rows.map((r) => toAdminMeeting(r, now));
}

export async function listPublicMeetings(
  ctx: ServiceContext,
  includePast: boolean,
): Promise<PublicMeeting[]> {
  const now = ctx.clock.now();
  const rows = await listMeetings(ctx.db, { statuses: ['published'], endedAfter: includePast ? null : now });
  return rows.map((r) => toPublicMeeting(r, now));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A meeting the public may see: published, or cancelled after having been published. Drafts do not exist. */
export async function findPublicMeetingRow(ctx: ServiceContext, ref: string): Promise<MeetingRow> {
  const row = UUID.test(ref) ? await findMeeting(ctx.db, ref) : await findMeetingBySlug(ctx.db, ref);
  if (!row || row.published_at === null) throw problems.notFound(`meeting ${ref}`);
  return row;
}

export async function getPublicMeeting(ctx: ServiceContext, ref: string): Promise<PublicMeeting> {
  const row = await findPublicMeetingRow(ctx, ref);
  return toPublicMeeting(row, ctx.clock.now());
}
