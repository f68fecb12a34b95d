import { attendeeLinkReissued, type linkReissueReasons } from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import { HttpProblem } from '@citydeals/service-kit';
import type { Kysely } from 'kysely';
import { budgetKeys, spendBudgets } from '../abuse/budget.repository.ts';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { hashManageToken, manageUrl, newManageToken } from '../manage-links/manage-token.ts';
import { attendeeSnapshot } from '../seats/seat.events.ts';
import { waitlistPositionOf } from '../seats/seat.repository.ts';
import { lockRegistration, updateRegistration } from './registration.repository.ts';
import { emailKey } from './registration.service.ts';

type ReissueReason = (typeof linkReissueReasons)[number];

/** Registrations whose link is still worth having: live, with personal data, of a meeting not yet over. */
function linkableRegistrations(db: Kysely<Database>, key: string, now: Date) {
  return db
    .selectFrom('registration as r')
    .innerJoin('meeting as m', 'm.id', 'r.meeting_id')
    .select('r.id')
    .where('r.email_key', '=', key)
    .where('r.status', 'in', ['confirmed', 'waitlisted', 'checked_in'])
    .where('r.erased_at', 'is', null)
    .where('m.ends_at', '>', now)
    .orderBy('r.seq')
    .execute();
}

/** One unit of the address's link-mail budget; true when there was one (or there is no budget). */
async function mayMailLinkTo(db: Kysely<Database>, ctx: ServiceContext, key: string): Promise<boolean> {
  const limit = ctx.limits?.linkMailsPerAddressPerHour ?? 0;
  if (limit === 0) return true;
  return spendBudgets(db, [{ key: budgetKeys.linkMailsTo(key), limit }], ctx.clock.now());
}

/**
 * "Send me my link again": every live registration of the address for a meeting still to come gets a new
 * manage link, mailed to the address by the notification service; the old links stop working. The caller
 * learns nothing (not whether the address is known, nor whether the budget was spent), so it returns nothing.
 */
export async function requestManageLinks(
  ctx: ServiceContext,
  email: string,
  origin: { client?: string } = {},
): Promise<void> {
  const perClient = ctx.limits?.linkRequestsPerClientPerHour ?? 0;
  if (origin.client && perClient > 0) {
    const budget = { key: budgetKeys.linkRequestsFrom(origin.client), limit: perClient };
    if (!(await spendBudgets(ctx.db, [budget], ctx.clock.now()))) {
      throw new HttpProblem(
        429,
        'too-many-link-requests',
        'Too many link requests',
        `at most ${perClient} link requests an hour from one address; try again later`,
      );
    }
  }
  const key = emailKey(email);
  const registrations = await linkableRegistrations(ctx.db, key, ctx.clock.now());
  if (registrations.length === 0) return;
  if (!(await mayMailLinkTo(ctx.db, ctx, key))) return;
  for (const { id } of registrations) await reissueManageLink(ctx, id, 'requested');
}

/**
 * Someone registered an address that already has a live registration for this meeting: the answer tells
 * them nothing about it, and the person at the address gets a fresh link (within the link-mail budget).
 */
export async function mailLinkToRegisteredAgain(ctx: ServiceContext, registrationId: string, key: string) {
  if (!(await mayMailLinkTo(ctx.db, ctx, key))) return;
  await reissueManageLink(ctx, registrationId, 'registered_again');
}

/**
 * A new token replaces the registration's old one (only its hash is kept), and the event carrying the new
 * link is written with it. Locks only the registration row: nothing here touches seats or the meeting.
 */
async function reissueManageLink(ctx: ServiceContext, registrationId: string, reason: ReissueReason) {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await lockRegistration(trx, registrationId);
    if (!row || row.erased_at || !['confirmed', 'waitlisted', 'checked_in'].includes(row.status)) return;
    const now = ctx.clock.now();
    const token = newManageToken();
    const updated = await updateRegistration(trx, row.id, {
      token_hash: hashManageToken(token),
      version: row.version + 1,
      updated_at: now,
    });
    const status = updated.status as 'confirmed' | 'waitlisted' | 'checked_in';
    await enqueueEvent(trx, attendeeLinkReissued, {
      id: ctx.newId(),
      time: now,
      source: EVENT_SOURCE,
      subject: updated.id,
      data: {
        ...attendeeSnapshot(updated, manageUrl(ctx.publicBaseUrl, token)),
        status,
        position:
          status === 'waitlisted' ? await waitlistPositionOf(trx, updated.meeting_id, updated.seq) : null,
        reason,
      },
    });
  });
}
