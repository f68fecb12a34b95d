import type {
  AttendeeCancelledEvent,
  AttendeeConfirmationRequestedEvent,
  AttendeeErasedEvent,
  AttendeeSnapshot,
  CloudEvent,
  EmailKind,
  MeetingCancelledEvent,
  MeetingRescheduledEvent,
  MeetingSnapshot,
  MeetingUpdatedEvent,
} from '@citydeals/contracts';
import { redactDeadLettersAbout } from '@citydeals/messaging';
import type { Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { type ComposeInput, composeEmail } from '../email/email.compose.ts';
import type { EmailContext } from '../email/email.context.ts';
import {
  cancelQueuedEmails,
  eraseEmailsOf,
  insertEmails,
  removeSuppression,
} from '../email/email.repository.ts';
import { type CalendarChange, calendarChanges } from '../email/email.templates.ts';
import { addressHash } from '../email/unsubscribe.rules.ts';
import { withMailTexts } from '../mail-texts/mail-text.compose.ts';
import { applyMeetingSnapshot, lockMeetings } from '../read-models/meeting.repository.ts';
import { MeetingNotKnownYet, PersonalLinkNotKnownYet } from '../read-models/not-known-yet.ts';
import {
  applyAttendeeSnapshots,
  countOtherRecipientsWithAddress,
  eraseRecipient,
  isErasedRecipient,
  listRecipients,
} from '../read-models/recipient.repository.ts';
import {
  cancelPendingReminders,
  deleteMeetingReminders,
  requeueUnsentReminders,
} from '../reminders/reminder.repository.ts';
import { planRemindersFor, planRemindersOf } from '../reminders/reminder.service.ts';

/*
 * What notification does as meetings and attendees change, one function per registration event: the read
 * models, the reminder schedule and the mails that tell attendees, in the consumer's transaction. The email
 * and reminders features meet here; neither imports the other.
 */

/** Statuses that hold a seat; they get reminders and calendar updates. */
const seated = ['confirmed', 'checked_in'] as const;

/** A new meeting: its read model, and reminders for anyone already seated (events may arrive out of order). */
export async function meetingChanged(
  trx: Transaction<Database>,
  ctx: EmailContext,
  snapshot: MeetingSnapshot,
): Promise<void> {
  const meeting = await applyMeetingSnapshot(trx, snapshot);
  if (!meeting) return;
  await planRemindersFor(trx, ctx.clock.now(), meeting, await listRecipients(trx, meeting.id, seated));
}

/**
 * An edit. When it changed what a calendar shows (title, venue, online link), every seated attendee gets a
 * change notice with the updated invitation (same UID, the SEQUENCE registration raised); the waitlist and
 * the cancelled hold no calendar entry; after the meeting has ended nobody is mailed. Reminders are written
 * when they fall due, so later ones name the new details; one already queued goes out as it is (withdrawn
 * and planned again, it would count as late and be skipped).
 */
export async function meetingUpdated(
  trx: Transaction<Database>,
  ctx: EmailContext,
  event: MeetingUpdatedEvent,
): Promise<void> {
  const meeting = await applyMeetingSnapshot(trx, event.data);
  if (!meeting) return;
  const now = ctx.clock.now();
  const changes = calendarChanges.filter((field) => event.data.changedFields.includes(field));
  const recipients = await listRecipients(trx, meeting.id, seated);
  await planRemindersFor(trx, now, meeting, recipients);
  const over = new Date(meeting.ends_at).getTime() <= now.getTime();
  if (changes.length === 0 || meeting.status !== 'published' || over) return;
  await queue(
    trx,
    ctx,
    recipients.map((recipient) => ({
      kind: 'meeting_changed' as const,
      meeting,
      recipient,
      now,
      calendar: 'REQUEST' as const,
      extra: { changes: changes satisfies CalendarChange[] },
      dedupeKey: `${event.id}:${recipient.registration_id}`,
    })),
  );
}

export async function meetingRescheduled(
  trx: Transaction<Database>,
  ctx: EmailContext,
  event: MeetingRescheduledEvent,
): Promise<void> {
  const meeting = await applyMeetingSnapshot(trx, event.data);
  if (!meeting) return;
  const now = ctx.clock.now();
  // Reminders queued but not sent name the old date: withdraw them and plan them again.
  await cancelQueuedEmails(trx, now, { meetingId: meeting.id, kinds: ['reminder'] });
  await requeueUnsentReminders(trx, meeting.id);
  const recipients = await listRecipients(trx, meeting.id, seated);
  await planRemindersFor(trx, now, meeting, recipients);
  const previous = {
    startsAt: new Date(event.data.previousStartsAt),
    endsAt: new Date(event.data.previousEndsAt),
  };
  await queue(
    trx,
    ctx,
    recipients.map((recipient) => ({
      kind: 'meeting_rescheduled' as const,
      meeting,
      recipient,
      now,
      calendar: 'REQUEST' as const,
      extra: { previous },
      dedupeKey: `${event.id}:${recipient.registration_id}`,
    })),
  );
}

export async function meetingCancelled(
  trx: Transaction<Database>,
  ctx: EmailContext,
  event: MeetingCancelledEvent,
): Promise<void> {
  const meeting = await applyMeetingSnapshot(trx, event.data, event.data.reason);
  if (!meeting) return;
  const now = ctx.clock.now();
  await deleteMeetingReminders(trx, meeting.id);
  await cancelQueuedEmails(trx, now, { meetingId: meeting.id, kinds: ['reminder'] });
  const recipients = await listRecipients(trx, meeting.id, [...seated, 'waitlisted']);
  await queue(
    trx,
    ctx,
    recipients.map((recipient) => ({
      kind: 'meeting_cancelled' as const,
      meeting,
      recipient,
      now,
      // Only those who got an invitation have a calendar entry to remove.
      calendar: recipient.status === 'waitlisted' ? null : ('CANCEL' as const),
      extra: { reason: event.data.reason },
      dedupeKey: `${event.id}:${recipient.registration_id}`,
    })),
  );
}

export type AttendeeChange =
  | 'registered'
  | 'waitlisted'
  | 'promoted'
  | 'cancelled'
  | 'checked_in'
  | 'check_in_undone'
  | 'details_changed'
  | 'substituted'
  | 'link_reissued'
  | 'marked_no_show'
  | 'needs_changed'
  | 'survey_requested'
  | 'seat_offered';

const mailFor: Record<AttendeeChange, EmailKind | null> = {
  registered: 'registration_confirmed',
  waitlisted: 'waitlisted',
  promoted: 'promoted',
  cancelled: 'registration_cancelled',
  checked_in: null,
  check_in_undone: null,
  details_changed: null,
  // The new person gets the confirmation the previous one had, with their own link.
  substituted: 'registration_confirmed',
  // The new link goes to the address only: whoever asked for it learns nothing.
  link_reissued: 'manage_link',
  marked_no_show: null,
  needs_changed: null,
  survey_requested: 'feedback_survey',
  seat_offered: 'waitlist_offer',
};

/**
 * The events that carry the attendee's personal manage link (with its token). Registration keeps only the
 * token's hash, so later events link to the manage page without it: the stored link is kept through them.
 */
const carriesPersonalLink: Record<AttendeeChange, boolean> = {
  registered: true,
  waitlisted: true,
  promoted: false,
  cancelled: false,
  checked_in: false,
  check_in_undone: false,
  details_changed: false,
  substituted: true,
  // A reissued link replaces the old one, which stops working.
  link_reissued: true,
  marked_no_show: false,
  needs_changed: false,
  // The survey's own link travels in the mail only (see surveyLinkOf).
  survey_requested: false,
  // The accept link travels in the mail only (see offerLinkOf); the manage link stays the first event's.
  seat_offered: false,
};

type AttendeeEvent = CloudEvent<string, AttendeeSnapshot> | AttendeeCancelledEvent;

/**
 * One step in a registration's life: the read model, its reminders, and the mail that tells the attendee.
 * An event older than what is stored changes nothing and sends nothing.
 */
export function attendeeChanged(
  trx: Transaction<Database>,
  ctx: EmailContext,
  change: AttendeeChange,
  event: AttendeeEvent,
): Promise<void> {
  return attendeesChanged(trx, ctx, change, [event]);
}

/**
 * The same step for several registrations at once, with the same effects as attendeeChanged for each in
 * turn, in a fixed number of statements. Events about one registration depend on each other's outcome,
 * so a run that holds two of them is applied one event at a time.
 */
export async function attendeesChanged(
  trx: Transaction<Database>,
  ctx: EmailContext,
  change: AttendeeChange,
  events: readonly AttendeeEvent[],
): Promise<void> {
  const registrations = new Set(events.map((e) => e.data.registrationId));
  if (registrations.size < events.length) {
    for (const event of events) await attendeesChanged(trx, ctx, change, [event]);
    return;
  }
  // The meeting rows are held until commit, so a reschedule handled at the same time either sees these
  // attendees or is seen by them: reminders are never planned against a superseded start.
  const meetings = await lockMeetings(
    trx,
    events.map((e) => e.data.meetingId),
  );
  const unknown = events.find((e) => !meetings.has(e.data.meetingId));
  if (unknown) {
    // Meeting events and attendee events are handled in parallel; the runner retries this one shortly.
    throw new MeetingNotKnownYet(`meeting ${unknown.data.meetingId} has not arrived yet`);
  }
  const recipients = await applyAttendeeSnapshots(
    trx,
    events.map((e) => ({ ...e.data, manageUrl: carriesPersonalLink[change] ? e.data.manageUrl : null })),
  );
  const linkless = [...recipients.values()].find((r) => !r.erased && r.manage_url === null);
  if (linkless) {
    // Rolled back and retried by the runner: a mail without the personal link is a dead end for its reader.
    throw new PersonalLinkNotKnownYet(`registration ${linkless.registration_id} has no personal link yet`);
  }
  const applied = events.flatMap((event) => {
    const recipient = recipients.get(event.data.registrationId);
    return recipient ? [{ event, recipient, meeting: meetings.get(event.data.meetingId)! }] : [];
  });
  if (applied.length === 0) return;
  const now = ctx.clock.now();
  if (change === 'registered' || change === 'promoted') {
    await planRemindersOf(trx, now, applied);
  } else if (change === 'waitlisted' || change === 'cancelled') {
    const ids = applied.map(({ recipient }) => recipient.registration_id);
    await cancelPendingReminders(trx, ids);
    await cancelQueuedEmails(trx, now, { registrationIds: ids, kinds: ['reminder'] });
  }
  const kind = mailFor[change];
  if (!kind) return;
  await queue(
    trx,
    ctx,
    applied
      .filter(({ meeting }) => meeting.status !== 'cancelled')
      .map(({ event, recipient, meeting }) => {
        const hadSeat = 'previousStatus' in event.data && event.data.previousStatus === 'confirmed';
        const calendar =
          change === 'registered' || change === 'promoted' || change === 'substituted'
            ? ('REQUEST' as const)
            : change === 'cancelled' && hadSeat
              ? ('CANCEL' as const)
              : null;
        return {
          kind,
          meeting,
          recipient,
          now,
          calendar,
          // The attendee's own cancellation supersedes the invitation they hold, which the meeting did not.
          calendarSequence: calendar === 'CANCEL' ? meeting.ics_sequence + 1 : meeting.ics_sequence,
          extra: { position: recipient.position, ...surveyLinkOf(event), ...offerLinkOf(event) },
          dedupeKey: `${event.id}:${recipient.registration_id}`,
        };
      }),
  );
}

/** The single-use survey link of a survey request, for its mail; nothing for other events. */
function surveyLinkOf(event: AttendeeEvent): { surveyUrl?: string; linkExpiresAt?: Date } {
  const data: object = event.data;
  if (!('surveyUrl' in data && 'expiresAt' in data)) return {};
  return { surveyUrl: String(data.surveyUrl), linkExpiresAt: new Date(String(data.expiresAt)) };
}

/** The single-use accept link of a waitlist offer and its deadline, for its mail; nothing for other events. */
function offerLinkOf(event: AttendeeEvent): { acceptUrl?: string; linkExpiresAt?: Date } {
  const data: object = event.data;
  if (!('acceptUrl' in data && 'expiresAt' in data)) return {};
  return { acceptUrl: String(data.acceptUrl), linkExpiresAt: new Date(String(data.expiresAt)) };
}

/** Removes the person from this schema: read model, queued mails, addresses in the log, suppression. */
export async function attendeeErased(
  trx: Transaction<Database>,
  ctx: EmailContext,
  event: AttendeeErasedEvent,
): Promise<void> {
  const { email } = await eraseRecipient(trx, event.data);
  await cancelPendingReminders(trx, [event.data.registrationId]);
  await eraseEmailsOf(trx, ctx.clock.now(), event.data.registrationId);
  // An event of this registration that could not be handled holds the same data.
  await redactDeadLettersAbout(trx, event.data.registrationId, ctx.clock.now());
  // The suppression entry is about the address; keep it while another registration still uses it.
  if (email && (await countOtherRecipientsWithAddress(trx, email, event.data.registrationId)) === 0) {
    await removeSuppression(trx, addressHash(await ctx.secret(trx), email));
  }
}

/**
 * A registration waits for its address to be confirmed: the link goes to the address, in the language the
 * person chose. Nobody holds a seat yet, so the recipient read model is left alone (the registration that
 * may follow starts its own versions) and the mail names no venue or online link. A request that was
 * erased before its event arrived sends nothing.
 */
export async function confirmationRequested(
  trx: Transaction<Database>,
  ctx: EmailContext,
  event: AttendeeConfirmationRequestedEvent,
): Promise<void> {
  const request = event.data;
  const meeting = (await lockMeetings(trx, [request.meetingId])).get(request.meetingId);
  if (!meeting) throw new MeetingNotKnownYet(`meeting ${request.meetingId} has not arrived yet`);
  if (meeting.status === 'cancelled' || (await isErasedRecipient(trx, request.registrationId))) return;
  const now = ctx.clock.now();
  const expiresAt = new Date(request.expiresAt);
  await queue(trx, ctx, [
    {
      kind: 'address_confirmation',
      meeting,
      recipient: {
        registration_id: request.registrationId,
        meeting_id: request.meetingId,
        version: request.version,
        status: 'awaiting_confirmation',
        name: request.name,
        email: request.email,
        language: request.language,
        position: null,
        // The only link this mail carries; it is not kept anywhere but in the mail.
        manage_url: request.confirmUrl,
        deal_id: null,
        erased: false,
        updated_at: now,
      },
      now,
      extra: { confirmUrl: request.confirmUrl, linkExpiresAt: expiresAt },
      dedupeKey: `${event.id}:${request.registrationId}`,
      expiresAt,
    },
  ]);
}

async function queue(trx: Transaction<Database>, ctx: EmailContext, inputs: ComposeInput[]) {
  const inserted = await insertEmails(
    trx,
    (await withMailTexts(trx, inputs)).map((input) => composeEmail(ctx, input)),
  );
  if (inserted > 0 && ctx.mail.queued()) await ctx.mail.notify(trx);
}
