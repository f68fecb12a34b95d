import {
  attendeeCancelled,
  attendeeCheckedIn,
  attendeeMarkedNoShow,
  attendeeNeedsChanged,
  attendeeNeedsFields,
  type CancellationActor,
} from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import { HttpProblem, problems } from '@citydeals/service-kit';
import type { Transaction } from 'kysely';
import { budgetKeys, spendBudgets } from '../abuse/budget.repository.ts';
import {
  type AwaitingConfirmation,
  holdForConfirmation,
} from '../address-confirmation/address-confirmation.service.ts';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { dealExists } from '../deals/deal.repository.ts';
import {
  hashManageToken,
  manageUrl,
  manageUrlWithoutToken,
  newManageToken,
} from '../manage-links/manage-token.ts';
import { findMeeting, lockMeeting } from '../meetings/meeting.repository.ts';
import { registrationWindow } from '../meetings/meeting.rules.ts';
import { checkRegistrationAnswers, questionsOf } from '../questions/question.service.ts';
import { attendeeSnapshot, seatEvents } from '../seats/seat.events.ts';
import {
  committedSeatCounters,
  type NewRegistration,
  type RegistrationRow,
  type SeatDecisionRow,
  waitlistPositionOf,
} from '../seats/seat.repository.ts';
import { decideSeat } from '../seats/seat.rules.ts';
import { changeSeat, type Promotion, promoteFromWaitlist } from '../seats/seat.service.ts';
import { checkChosenSessions } from '../sessions/session.service.ts';
import { mailLinkToRegisteredAgain } from './manage-link.service.ts';
import {
  findLiveRegistrationByEmail,
  findMeetingWithLiveRegistration,
  findRegistration,
  findRegistrationByTokenHash,
  listRegistrations,
  lockRegistration,
  type MeetingWithLiveRegistration,
  type RegistrationFilter,
  updateRegistration,
} from './registration.repository.ts';
import {
  cancelTransition,
  checkInTransition,
  noShowTransition,
  type Transition,
} from './registration.rules.ts';
import type {
  AdminRegistration,
  OwnRegistration,
  RegisterInput,
  RegistrationResult,
  UpdateNeedsInput,
} from './registration.schemas.ts';

export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

const windowProblems = {
  cancelled: () =>
    new HttpProblem(
      409,
      'meeting-cancelled',
      'Meeting cancelled',
      'this meeting is cancelled; registration is closed',
    ),
  not_yet_open: (at: Date | null) =>
    new HttpProblem(
      409,
      'registration-not-open',
      'Registration not open yet',
      `registration opens at ${at?.toISOString()}`,
      {
        opensAt: at?.toISOString(),
      },
    ),
  closed: () =>
    new HttpProblem(
      409,
      'registration-closed',
      'Registration closed',
      'registration for this meeting has closed',
    ),
};

/**
 * The answer when the address already has a live registration for the meeting: nothing about it (not its id,
 * status or waitlist place), while the person at the address gets a fresh link by mail.
 */
async function alreadyRegisteredAnswer(
  ctx: ServiceContext,
  meetingId: string,
  liveId: string,
  key: string,
): Promise<RegistrationResult> {
  await mailLinkToRegisteredAgain(ctx, liveId, key);
  return { registrationId: null, meetingId, status: null, position: null, manageUrl: null, existing: true };
}

const waitlistFull = () =>
  new HttpProblem(409, 'waitlist-full', 'Waitlist full', 'this meeting is full and so is its waitlist');
const overBudget = () =>
  new HttpProblem(
    429,
    'registration-budget',
    'Too many registrations',
    'too many registrations from this address or for this email address in the last hour; try again later',
  );

/**
 * The brakes on public registration, applied once a request is known to be a new registration for an open
 * meeting (so a refused request of another kind writes nothing): a bounded waitlist, and hourly budgets per
 * client address in this meeting and per email address. The waitlist is read just before the seat decision,
 * so registrations arriving together may pass it by as many as arrive at once.
 */
async function admitRegistration(
  ctx: ServiceContext,
  meetingId: string,
  key: string,
  client: string | undefined,
  spendsBudgets: boolean,
): Promise<void> {
  const limits = ctx.limits;
  if (!limits) return;
  if (limits.waitlistLimit > 0) {
    const counters = await committedSeatCounters(ctx.db, meetingId);
    if (
      counters &&
      counters.seats_taken >= counters.capacity &&
      counters.waitlist_length >= limits.waitlistLimit
    ) {
      throw waitlistFull();
    }
  }
  if (!spendsBudgets) return;
  const budgets = [];
  if (client && limits.registrationsPerClientPerHour > 0) {
    budgets.push({
      key: budgetKeys.clientInMeeting(meetingId, client),
      limit: limits.registrationsPerClientPerHour,
    });
  }
  if (limits.registrationsPerAddressPerHour > 0) {
    budgets.push({ key: budgetKeys.registrationsTo(key), limit: limits.registrationsPerAddressPerHour });
  }
  if (!(await spendBudgets(ctx.db, budgets, ctx.clock.now()))) throw overBudget();
}

/**
 * Where a registration comes from: the client address (for its budgets), and, when the meeting asked for
 * the address to be confirmed, the id of the confirmed request (which the registration takes).
 */
export interface RegistrationOrigin {
  client?: string | undefined;
  confirmedRequest?: string | undefined;
}

const isLiveEmailViolation = (err: unknown) =>
  (err as { code?: string; constraint?: string } | null)?.code === '23505' &&
  (err as { constraint?: string }).constraint === 'registration_one_live_per_email';

/** The meeting changes under a registration only when an admin edits it; a handful of rereads is plenty. */
const REGISTER_ATTEMPTS = 10;

function countersOf(meeting: MeetingWithLiveRegistration) {
  return {
    capacity: meeting.capacity,
    seatsTaken: meeting.seats_taken,
    waitlistLength: meeting.waitlist_length,
    seatsOffered: meeting.seats_offered,
  };
}

function windowOf(meeting: MeetingWithLiveRegistration, now: Date) {
  return registrationWindow(
    {
      status: meeting.status,
      startsAt: meeting.starts_at,
      endsAt: meeting.ends_at,
      registrationOpensAt: meeting.registration_opens_at,
      registrationClosesAt: meeting.registration_closes_at,
    },
    now,
  );
}

/**
 * Registers someone, or returns their live registration for this meeting. The meeting is read (or taken
 * from `ctx.openMeetings`) without a lock; the seat decision, the registration and its event are then one
 * statement under the meeting row lock (`takeSeats` in seats/, through `ctx.seatQueue`, which lets a burst
 * share one commit), so concurrent registrations are decided one at a time against exact counters. That statement only
 * writes if the meeting is still the version read, and a second live registration of the address fails there
 * on the unique index: both send us back to reading.
 */
export async function register(
  ctx: ServiceContext,
  meetingId: string,
  input: RegisterInput,
  origin: RegistrationOrigin = {},
): Promise<RegistrationResult | AwaitingConfirmation> {
  // A meeting that wants addresses confirmed holds a public registration first (address-confirmation/);
  // the confirmed request comes back here with its id and goes on to the seat decision.
  const holds = (meeting: MeetingWithLiveRegistration) =>
    meeting.address_confirmation && !origin.confirmedRequest;
  if (input.dealId && !(await dealExists(ctx.db, input.dealId))) {
    throw problems.validation([{ field: 'body.dealId', message: 'is not a known deal' }]);
  }
  await checkChosenSessions(ctx.db, meetingId, input.sessionIds);
  const key = emailKey(input.email);
  let admitted = false;
  for (let attempt = 1; attempt <= REGISTER_ATTEMPTS; attempt += 1) {
    const now = ctx.clock.now();
    let meeting = ctx.openMeetings.get(meetingId);
    const cached = meeting !== undefined && windowOf(meeting, now) === 'open';
    if (!meeting || !cached) {
      ctx.openMeetings.forget(meetingId);
      const read = await findMeetingWithLiveRegistration(ctx.db, meetingId, key);
      if (!read || read.published_at === null) throw problems.notFound(`meeting ${meetingId}`);
      // The questions of the version read: the registering statement writes only while it is still current.
      meeting = { ...read, questions: await questionsOf(ctx.db, meetingId) };
      // Before anything that depends on the address: a wrong answer gets the same 400 whoever sends it.
      checkRegistrationAnswers(meeting.questions, input.answers);
      if (meeting.live_id !== null && !holds(meeting))
        return alreadyRegisteredAnswer(ctx, meetingId, meeting.live_id, key);
      const window = windowOf(meeting, now);
      if (window === 'cancelled') throw windowProblems.cancelled();
      if (window === 'not_yet_open') throw windowProblems.not_yet_open(meeting.registration_opens_at);
      if (window !== 'open') throw windowProblems.closed();
      // A hold writes nothing that checks the meeting's version, so a cached setting could outlive its
      // change: such meetings are read every time.
      if (!meeting.address_confirmation) ctx.openMeetings.remember(meeting);
    }

    let answers: ReturnType<typeof checkRegistrationAnswers>;
    try {
      answers = checkRegistrationAnswers(meeting.questions, input.answers);
    } catch (err) {
      // Refused on cached questions, which may have changed: refuse only on the questions as they are now.
      if (!cached) throw err;
      ctx.openMeetings.forget(meetingId);
      continue;
    }
    if (!admitted) {
      await admitRegistration(ctx, meetingId, key, origin.client, !origin.confirmedRequest);
      admitted = true;
    }
    if (holds(meeting)) return holdForConfirmation(ctx, meeting, input, key);
    const token = newManageToken();
    const row: NewRegistration = {
      id: origin.confirmedRequest ?? ctx.newId(),
      name: input.name,
      email: input.email.trim(),
      email_key: key,
      organisation: input.organisation,
      role: input.role,
      deal_id: input.dealId,
      dietary_needs: input.dietaryNeeds || null,
      accessibility_needs: input.accessibilityNeeds || null,
      consent_photo: input.consents.photo,
      consent_attendee_list: input.consents.attendeeList,
      language: input.language ?? meeting.language,
      token_hash: hashManageToken(token),
      created_at: now,
    };
    const link = manageUrl(ctx.publicBaseUrl, token);
    // Only the event of the decision the counters last read predict is built (and validated); when the
    // statement decides otherwise, the seat queue has it decided again with both.
    const expected = decideSeat(countersOf(meeting)).status;
    let decision: SeatDecisionRow | undefined;
    try {
      decision = await ctx.seatQueue.decide({
        meetingId,
        meetingVersion: meeting.version,
        questionsVersion: meeting.questions_version,
        row,
        answers: JSON.stringify(answers),
        events: seatEvents(ctx, meetingId, row, link, expected),
        expected,
        everyEvent: () => seatEvents(ctx, meetingId, row, link),
        sessionIds: input.sessionIds,
      });
    } catch (err) {
      if (!isLiveEmailViolation(err)) throw err;
      const live = await findLiveRegistrationByEmail(ctx.db, meetingId, key);
      if (live) return alreadyRegisteredAnswer(ctx, meetingId, live.id, key);
      continue;
    }
    if (!decision) {
      ctx.openMeetings.forget(meetingId);
      continue;
    }
    // The counters read were out of date: the next registration reads them again.
    if (decision.status !== expected) ctx.openMeetings.forget(meetingId);
    return {
      registrationId: row.id,
      meetingId,
      status: decision.status,
      position: decision.position,
      manageUrl: link,
      existing: false,
    };
  }
  throw new Error(`meeting ${meetingId} kept changing while registering`);
}

function refuse(transition: Transition): asserts transition is { ok: true; changed: boolean } {
  if (!transition.ok)
    throw new HttpProblem(409, 'invalid-status', 'Not possible in this status', transition.reason);
}

/** Locks the meeting, then the registration: the one lock order used everywhere. */
async function lockBoth(trx: Transaction<Database>, registrationId: string) {
  const peek = await findRegistration(trx, registrationId);
  if (!peek) throw problems.notFound(`registration ${registrationId}`);
  const meeting = (await lockMeeting(trx, peek.meeting_id))!;
  const registration = (await lockRegistration(trx, registrationId))!;
  return { meeting, registration };
}

export async function cancelRegistration(
  ctx: ServiceContext,
  registrationId: string,
  by: CancellationActor,
): Promise<{ status: 'cancelled'; promoted: Promotion[] }> {
  return ctx.db.transaction().execute(async (trx) => {
    const { meeting, registration } = await lockBoth(trx, registrationId);
    const transition = cancelTransition(registration.status);
    refuse(transition);
    if (!transition.changed) return { status: 'cancelled' as const, promoted: [] };
    const now = ctx.clock.now();
    const previousStatus = registration.status as 'confirmed' | 'waitlisted';
    const row = await changeSeat(trx, registration, {
      status: 'cancelled',
      version: registration.version + 1,
      cancelled_at: now,
      cancelled_by: by,
      updated_at: now,
    });
    await enqueueEvent(trx, attendeeCancelled, {
      id: ctx.newId(),
      time: now,
      source: EVENT_SOURCE,
      subject: row.id,
      data: {
        ...attendeeSnapshot(row, manageUrlWithoutToken(ctx.publicBaseUrl)),
        status: 'cancelled',
        position: null,
        previousStatus,
        cancelledBy: by,
      },
    });
    // A waiting registration that leaves may free the seat its open offer held.
    const promoted = await promoteFromWaitlist(trx, ctx, meeting);
    return { status: 'cancelled' as const, promoted };
  });
}

export async function checkIn(ctx: ServiceContext, registrationId: string): Promise<AdminRegistration> {
  await ctx.db.transaction().execute(async (trx) => {
    const { registration } = await lockBoth(trx, registrationId);
    if (registration.erased_at) refuse({ ok: false, reason: 'an erased registration cannot be checked in' });
    const transition = checkInTransition(registration.status);
    refuse(transition);
    if (!transition.changed) return;
    const now = ctx.clock.now();
    const row = await changeSeat(trx, registration, {
      status: 'checked_in',
      version: registration.version + 1,
      checked_in_at: now,
      no_show_at: null,
      updated_at: now,
    });
    await enqueueEvent(trx, attendeeCheckedIn, {
      id: ctx.newId(),
      time: now,
      source: EVENT_SOURCE,
      subject: row.id,
      data: {
        ...attendeeSnapshot(row, manageUrlWithoutToken(ctx.publicBaseUrl)),
        status: 'checked_in',
        position: null,
        checkedInAt: now.toISOString(),
      },
    });
  });
  return getAdminRegistration(ctx, registrationId);
}

export async function markNoShow(ctx: ServiceContext, registrationId: string): Promise<AdminRegistration> {
  await ctx.db.transaction().execute(async (trx) => {
    const { meeting, registration } = await lockBoth(trx, registrationId);
    if (registration.erased_at) refuse({ ok: false, reason: 'an erased registration cannot be marked' });
    const transition = noShowTransition(registration.status, meeting.starts_at, ctx.clock.now());
    refuse(transition);
    if (!transition.changed) return;
    const now = ctx.clock.now();
    const row = await changeSeat(trx, registration, {
      status: 'no_show',
      version: registration.version + 1,
      no_show_at: now,
      updated_at: now,
    });
    await enqueueEvent(trx, attendeeMarkedNoShow, {
      id: ctx.newId(),
      time: now,
      source: EVENT_SOURCE,
      subject: row.id,
      data: {
        ...attendeeSnapshot(row, manageUrlWithoutToken(ctx.publicBaseUrl)),
        status: 'no_show',
        position: null,
        markedAt: now.toISOString(),
      },
    });
  });
  return getAdminRegistration(ctx, registrationId);
}

async function byToken(ctx: ServiceContext, token: string): Promise<RegistrationRow> {
  const row = await findRegistrationByTokenHash(ctx.db, hashManageToken(token));
  // One answer for unknown and erased tokens, so a guess learns nothing.
  if (!row) throw problems.notFound('a registration with this link');
  return row;
}

export async function viewOwnRegistration(ctx: ServiceContext, token: string): Promise<OwnRegistration> {
  const row = await byToken(ctx, token);
  const meeting = (await findMeeting(ctx.db, row.meeting_id))!;
  return {
    registrationId: row.id,
    status: row.status,
    position: row.status === 'waitlisted' ? await waitlistPositionOf(ctx.db, row.meeting_id, row.seq) : null,
    name: row.name ?? '',
    email: row.email ?? '',
    organisation: row.organisation,
    role: row.role as OwnRegistration['role'],
    dealId: row.deal_id,
    dietaryNeeds: row.dietary_needs,
    accessibilityNeeds: row.accessibility_needs,
    consents: { photo: row.consent_photo, attendeeList: row.consent_attendee_list },
    language: row.language,
    meeting: {
      id: meeting.id,
      slug: meeting.slug,
      title: meeting.title,
      startsAt: meeting.starts_at.toISOString(),
      endsAt: meeting.ends_at.toISOString(),
      timeZone: meeting.time_zone,
      venue: { name: meeting.venue_name, address: meeting.venue_address },
      onlineUrl: meeting.online_url,
      status: meeting.status,
    },
  };
}

/** Publishes the needs and consents after the change, for systems that cater for or seat attendees. */
export async function updateOwnNeeds(
  ctx: ServiceContext,
  token: string,
  input: UpdateNeedsInput,
): Promise<OwnRegistration> {
  const found = await byToken(ctx, token);
  await ctx.db.transaction().execute(async (trx) => {
    const row = (await lockRegistration(trx, found.id))!;
    const { status } = row;
    if (status === 'cancelled') {
      throw new HttpProblem(
        409,
        'invalid-status',
        'Not possible in this status',
        'a cancelled registration cannot be changed',
      );
    }
    const next = {
      dietary_needs: input.dietaryNeeds === undefined ? row.dietary_needs : input.dietaryNeeds || null,
      accessibility_needs:
        input.accessibilityNeeds === undefined ? row.accessibility_needs : input.accessibilityNeeds || null,
      consent_photo: input.consents?.photo ?? row.consent_photo,
      consent_attendee_list: input.consents?.attendeeList ?? row.consent_attendee_list,
    };
    const changed = {
      dietaryNeeds: next.dietary_needs !== row.dietary_needs,
      accessibilityNeeds: next.accessibility_needs !== row.accessibility_needs,
      consents:
        next.consent_photo !== row.consent_photo || next.consent_attendee_list !== row.consent_attendee_list,
    };
    const changedFields = attendeeNeedsFields.filter((field) => changed[field]);
    if (changedFields.length === 0) return;
    const now = ctx.clock.now();
    const updated = await updateRegistration(trx, row.id, {
      ...next,
      version: row.version + 1,
      updated_at: now,
    });
    await enqueueEvent(trx, attendeeNeedsChanged, {
      id: ctx.newId(),
      time: now,
      source: EVENT_SOURCE,
      subject: row.id,
      data: {
        ...attendeeSnapshot(updated, manageUrlWithoutToken(ctx.publicBaseUrl)),
        status,
        position: status === 'waitlisted' ? await waitlistPositionOf(trx, row.meeting_id, row.seq) : null,
        dietaryNeeds: updated.dietary_needs,
        accessibilityNeeds: updated.accessibility_needs,
        consents: { photo: updated.consent_photo, attendeeList: updated.consent_attendee_list },
        changedFields,
      },
    });
  });
  return viewOwnRegistration(ctx, token);
}

export async function cancelOwnRegistration(ctx: ServiceContext, token: string) {
  const row = await byToken(ctx, token);
  return cancelRegistration(ctx, row.id, 'attendee');
}

type ListedRow = Awaited<ReturnType<typeof listRegistrations>>[number];

export function toAdminRegistration(row: ListedRow): AdminRegistration {
  return {
    registrationId: row.id,
    version: row.version,
    status: row.status,
    position: row.position,
    name: row.name,
    email: row.email,
    organisation: row.organisation,
    role: row.role as AdminRegistration['role'],
    dealId: row.deal_id,
    dealName: row.deal_name,
    dietaryNeeds: row.dietary_needs,
    accessibilityNeeds: row.accessibility_needs,
    consents: { photo: row.consent_photo, attendeeList: row.consent_attendee_list },
    language: row.language,
    registeredAt: row.created_at.toISOString(),
    checkedInAt: row.checked_in_at?.toISOString() ?? null,
    noShowAt: row.no_show_at?.toISOString() ?? null,
    cancelledAt: row.cancelled_at?.toISOString() ?? null,
    cancelledBy: row.cancelled_by,
    erased: row.erased_at !== null,
  };
}

export async function listAdminRegistrations(
  ctx: ServiceContext,
  meetingId: string,
  filter: RegistrationFilter,
): Promise<AdminRegistration[]> {
  if (!(await findMeeting(ctx.db, meetingId))) throw problems.notFound(`meeting ${meetingId}`);
  return (await listRegistrations(ctx.db, meetingId, filter)).map(toAdminRegistration);
}

export async function getAdminRegistration(ctx: ServiceContext, id: string): Promise<AdminRegistration> {
  const row = await findRegistration(ctx.db, id);
  if (!row) throw problems.notFound(`registration ${id}`);
  const [listed] = await listRegistrations(ctx.db, row.meeting_id, { registrationId: id });
  return toAdminRegistration(listed!);
}
