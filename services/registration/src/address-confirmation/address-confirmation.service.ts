import { attendeeConfirmationRequested, attendeeErased } from '@citydeals/contracts';
import { deleteEventsAbout, enqueueEvent } from '@citydeals/messaging';
import { HttpProblem } from '@citydeals/service-kit';
import { sql, type Transaction } from 'kysely';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { hashManageToken, newManageToken } from '../manage-links/manage-token.ts';
import { mailLinkToRegisteredAgain } from '../registrations/manage-link.service.ts';
import { findLiveRegistrationByEmail } from '../registrations/registration.repository.ts';
import {
  type RegisterInput,
  type RegistrationResult,
  registerBody,
} from '../registrations/registration.schemas.ts';
import { register } from '../registrations/registration.service.ts';
import {
  claimRequest,
  deleteRequests,
  findOpenRequest,
  findRequestByTokenHash,
  insertRequest,
  lockExpiredRequests,
  lockOpenRequestsOf,
  releaseClaim,
  renewRequest,
} from './address-confirmation.repository.ts';
import {
  confirmationExpiry,
  confirmationLinkState,
  type LinkState,
  sweepCutoff,
} from './address-confirmation.rules.ts';

export const CONFIRM_PATH = '/aanmelding/bevestigen';

export function confirmUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl}${CONFIRM_PATH}/${token}`;
}

/** What a public registration answers while the address is not confirmed: the same whoever the address is. */
export interface AwaitingConfirmation {
  meetingId: string;
  status: 'awaiting_confirmation';
  expiresAt: string;
}

/**
 * Holds a public registration until its address is confirmed: no seat, no waitlist place, only a request
 * with a single-use link (its token kept as a hash) that the notification service mails to the address.
 * Asking again for the same meeting renews the request (new link, the old one stops working), so one
 * address has one request per meeting. An address that is already registered gets its manage link instead,
 * with the same answer, so the caller cannot tell the two apart.
 */
export async function holdForConfirmation(
  ctx: ServiceContext,
  meeting: { id: string; language: 'nl' | 'en' },
  input: RegisterInput,
  key: string,
): Promise<AwaitingConfirmation> {
  const now = ctx.clock.now();
  const expiresAt = confirmationExpiry(now);
  const answer: AwaitingConfirmation = {
    meetingId: meeting.id,
    status: 'awaiting_confirmation',
    expiresAt: expiresAt.toISOString(),
  };
  const live = await findLiveRegistrationByEmail(ctx.db, meeting.id, key);
  if (live) {
    await mailLinkToRegisteredAgain(ctx, live.id, key);
    return answer;
  }
  const token = newManageToken();
  const kept: RegisterInput = {
    ...input,
    email: input.email.trim(),
    language: input.language ?? meeting.language,
  };
  await ctx.db.transaction().execute(async (trx) => {
    // Serialises requests of one address for one meeting, so two at once renew one request.
    await sql`select pg_advisory_xact_lock(hashtext(${`address-confirmation:${meeting.id}:${key}`}))`.execute(
      trx,
    );
    const open = await findOpenRequest(trx, meeting.id, key);
    const id = open?.id ?? ctx.newId();
    const version = (open?.version ?? 0) + 1;
    const fields = {
      version,
      token_hash: hashManageToken(token),
      input: JSON.stringify(kept),
      created_at: now,
      expires_at: expiresAt,
    };
    if (open) await renewRequest(trx, id, fields);
    else await insertRequest(trx, { id, meeting_id: meeting.id, email_key: key, ...fields });
    await enqueueEvent(trx, attendeeConfirmationRequested, {
      id: ctx.newId(),
      time: now,
      source: EVENT_SOURCE,
      subject: id,
      data: {
        registrationId: id,
        meetingId: meeting.id,
        version,
        name: kept.name,
        email: kept.email,
        language: kept.language!,
        confirmUrl: confirmUrl(ctx.publicBaseUrl, token),
        expiresAt: expiresAt.toISOString(),
      },
    });
  });
  return answer;
}

export const confirmationProblems = {
  unknown: () =>
    new HttpProblem(
      404,
      'confirmation-link-unknown',
      'Unknown confirmation link',
      'this confirmation link is not known (any more); register again on the meeting page',
    ),
  used: () =>
    new HttpProblem(
      409,
      'confirmation-link-used',
      'Confirmation link already used',
      'this address was confirmed with this link already; the mail with your personal link is on its way',
    ),
  expired: () =>
    new HttpProblem(
      410,
      'confirmation-link-expired',
      'Confirmation link expired',
      'this confirmation link has expired and nothing was held; register again on the meeting page',
    ),
};

/**
 * A followed confirmation link: the request is taken once (it keeps no personal data afterwards) and the
 * usual seat decision runs with the request's id as the registration's, through `decide` (the same path
 * as a registration without confirmation, budgets aside: they were spent when the request was made).
 * When that decision fails for a reason of the meeting (closed, cancelled, waitlist full) the link is used
 * up; for any other failure the request is given back, so the link can be followed again.
 */
export async function confirmAddress<Result>(
  ctx: ServiceContext,
  token: string,
  decide: (request: { id: string; meetingId: string; input: RegisterInput }) => Promise<Result>,
): Promise<Result> {
  const tokenHash = hashManageToken(token);
  const claimed = await claimRequest(ctx.db, tokenHash, ctx.clock.now());
  if (!claimed) {
    const found = await findRequestByTokenHash(ctx.db, tokenHash);
    if (!found) throw confirmationProblems.unknown();
    const state = confirmationLinkState(
      { confirmedAt: found.confirmed_at, expiresAt: found.expires_at },
      ctx.clock.now(),
    );
    throw state === 'expired' ? confirmationProblems.expired() : confirmationProblems.used();
  }
  const input = registerBody.parse(claimed.input);
  try {
    return await decide({ id: claimed.id, meetingId: claimed.meeting_id, input });
  } catch (err) {
    if (!(err instanceof HttpProblem && err.problem.status < 500)) await releaseClaim(ctx.db, claimed);
    throw err;
  }
}

/** What a confirmation link finds, for the page behind it (which changes nothing). */
export async function confirmationLinkStateOf(
  ctx: ServiceContext,
  token: string,
): Promise<LinkState | 'unknown'> {
  const found = await findRequestByTokenHash(ctx.db, hashManageToken(token));
  if (!found) return 'unknown';
  return confirmationLinkState(
    { confirmedAt: found.confirmed_at, expiresAt: found.expires_at },
    ctx.clock.now(),
  );
}

/** A followed link, decided as a registration (or answered as the address's existing one). */
export function confirmRegistration(ctx: ServiceContext, token: string): Promise<RegistrationResult> {
  return confirmAddress(ctx, token, async (request) => {
    const result = await register(ctx, request.meetingId, request.input, { confirmedRequest: request.id });
    if (result.status === 'awaiting_confirmation') throw new Error('a confirmed request was held again');
    return result;
  });
}

/** Announces the end of requests that never became a registration, so every store forgets them. */
async function announceEnded(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  ended: readonly { id: string; meeting_id: string; version: number }[],
): Promise<void> {
  const now = ctx.clock.now();
  for (const request of ended) {
    await deleteEventsAbout(trx, request.id);
    await enqueueEvent(trx, attendeeErased, {
      id: ctx.newId(),
      time: now,
      source: EVENT_SOURCE,
      subject: request.id,
      data: { registrationId: request.id, meetingId: request.meeting_id, version: request.version + 1 },
    });
  }
}

/**
 * Forgets requests whose link expired (after a grace period): the row goes, and a request that never became
 * a registration is announced as erased, so its mail and its event are erased elsewhere too. A confirmed
 * request became a registration with the same id, whose own erasure covers them. Returns how many went.
 */
export async function sweepExpiredConfirmations(ctx: ServiceContext, batch = 200): Promise<number> {
  let total = 0;
  for (;;) {
    const swept = await ctx.db.transaction().execute(async (trx) => {
      const expired = await lockExpiredRequests(trx, sweepCutoff(ctx.clock.now()), batch);
      await deleteRequests(
        trx,
        expired.map((r) => r.id),
      );
      await announceEnded(
        trx,
        ctx,
        expired.filter((r) => r.registration_id === null),
      );
      return expired.length;
    });
    total += swept;
    if (swept < batch) return total;
  }
}

/** Erasure of a person: their requests awaiting confirmation go, announced like expired ones. */
export async function eraseConfirmationRequestsOf(ctx: ServiceContext, key: string): Promise<string[]> {
  return ctx.db.transaction().execute(async (trx) => {
    const open = await lockOpenRequestsOf(trx, key);
    await deleteRequests(
      trx,
      open.map((r) => r.id),
    );
    await announceEnded(trx, ctx, open);
    return open.map((r) => r.id);
  });
}
