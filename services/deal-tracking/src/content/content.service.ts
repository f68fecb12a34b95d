import {
  type DealRole,
  dealUpdated,
  type LessonKind,
  lessonRecorded,
  linkCreated,
  type PartnerType,
  partnerJoined,
  partnerLeft,
  resultRecorded,
} from '@citydeals/contracts';
import { problems } from '@citydeals/service-kit';
import type { ServiceContext } from '../context.ts';
import { findDeal } from '../deals/deal.repository.ts';
import { type ChangeRequest, changeDeal, recordChange, snapshotOf } from '../deals/deal.service.ts';
import {
  deletePerson,
  findPartner,
  insertLesson,
  insertLink,
  insertPartner,
  insertPerson,
  insertResult,
  type LessonRecord,
  type LinkRecord,
  linkExists,
  markPartnerLeft,
  type PartnerRecord,
  type PersonRecord,
  type ResultRecord,
} from './content.repository.ts';

// Adding a person, partner, result, lesson or link is a change of the deal: each gets the deal's next
// version and exactly one event, in the transaction that writes it (changeDeal + recordChange).

export async function addPerson(
  ctx: ServiceContext,
  request: ChangeRequest,
  input: { name: string; role: DealRole; email: string },
): Promise<{ person: PersonRecord; version: number }> {
  return changeDeal(ctx, request, async (trx, deal) => {
    const person: PersonRecord = { id: ctx.newId(), ...input, addedAt: ctx.clock.now() };
    await insertPerson(trx, deal.id, person);
    // The event names the change, not the person: contact addresses stay out of the event stream.
    const { version } = await recordChange(trx, ctx, deal, request.actor, dealUpdated, {
      ...snapshotOf(deal),
      changedFields: ['people'],
    });
    return { person, version };
  });
}

export async function removePerson(
  ctx: ServiceContext,
  request: ChangeRequest,
  personId: string,
): Promise<{ version: number }> {
  return changeDeal(ctx, request, async (trx, deal) => {
    if (!(await deletePerson(trx, deal.id, personId)))
      throw problems.notFound(`person ${personId} of this deal`);
    return recordChange(trx, ctx, deal, request.actor, dealUpdated, {
      ...snapshotOf(deal),
      changedFields: ['people'],
    });
  });
}

export async function joinPartner(
  ctx: ServiceContext,
  request: ChangeRequest,
  input: { name: string; type: PartnerType; joinedOn: string },
): Promise<{ partner: PartnerRecord; version: number }> {
  return changeDeal(ctx, request, async (trx, deal) => {
    const partner: PartnerRecord = { id: ctx.newId(), ...input, leftOn: null, leftReason: null };
    await insertPartner(trx, deal.id, partner);
    const { version } = await recordChange(trx, ctx, deal, request.actor, partnerJoined, {
      dealId: deal.id,
      partnerId: partner.id,
      name: partner.name,
      type: partner.type,
      joinedOn: partner.joinedOn,
    });
    return { partner, version };
  });
}

export async function leavePartner(
  ctx: ServiceContext,
  request: ChangeRequest,
  partnerId: string,
  input: { leftOn: string; reason?: string | null | undefined },
): Promise<{ partner: PartnerRecord; version: number }> {
  return changeDeal(ctx, request, async (trx, deal) => {
    const partner = await findPartner(trx, deal.id, partnerId);
    if (!partner) throw problems.notFound(`partner ${partnerId} of this deal`);
    if (partner.leftOn !== null) throw problems.conflict(`the partner already left on ${partner.leftOn}`);
    if (input.leftOn < partner.joinedOn) {
      throw problems.validation([
        { field: 'body.leftOn', message: `must not be before the partner joined (${partner.joinedOn})` },
      ]);
    }
    const reason = input.reason ?? null;
    await markPartnerLeft(trx, partner.id, input.leftOn, reason);
    const left = { ...partner, leftOn: input.leftOn, leftReason: reason };
    const { version } = await recordChange(trx, ctx, deal, request.actor, partnerLeft, {
      dealId: deal.id,
      partnerId: partner.id,
      name: partner.name,
      type: partner.type,
      leftOn: input.leftOn,
      reason,
    });
    return { partner: left, version };
  });
}

export async function recordResult(
  ctx: ServiceContext,
  request: ChangeRequest,
  input: { title: string; description?: string | null | undefined; achievedOn?: string | null | undefined },
): Promise<{ result: ResultRecord; version: number }> {
  return changeDeal(ctx, request, async (trx, deal) => {
    const result: ResultRecord = {
      id: ctx.newId(),
      title: input.title,
      description: input.description ?? null,
      achievedOn: input.achievedOn ?? null,
      recordedAt: ctx.clock.now(),
    };
    await insertResult(trx, deal.id, result);
    const { version } = await recordChange(trx, ctx, deal, request.actor, resultRecorded, {
      dealId: deal.id,
      resultId: result.id,
      title: result.title,
      description: result.description,
      achievedOn: result.achievedOn,
    });
    return { result, version };
  });
}

export async function recordLesson(
  ctx: ServiceContext,
  request: ChangeRequest,
  input: { kind: LessonKind; text: string; meetingId?: string | null | undefined },
): Promise<{ lesson: LessonRecord; version: number }> {
  return changeDeal(ctx, request, async (trx, deal) => {
    const lesson: LessonRecord = {
      id: ctx.newId(),
      kind: input.kind,
      text: input.text,
      meetingId: input.meetingId ?? null,
      recordedAt: ctx.clock.now(),
    };
    await insertLesson(trx, deal.id, lesson);
    const { version } = await recordChange(trx, ctx, deal, request.actor, lessonRecorded, {
      dealId: deal.id,
      lessonId: lesson.id,
      kind: lesson.kind,
      text: lesson.text,
      meetingId: lesson.meetingId,
    });
    return { lesson, version };
  });
}

/**
 * A cross-link is recorded on the deal it was posted to (that deal's version and event); it shows on both
 * deals. Only one link per pair of deals.
 */
export async function linkDeals(
  ctx: ServiceContext,
  request: ChangeRequest,
  input: { otherDealId: string; note?: string | null | undefined; meetingId?: string | null | undefined },
): Promise<{ link: LinkRecord; version: number }> {
  if (input.otherDealId === request.dealId) {
    throw problems.validation([{ field: 'body.otherDealId', message: 'a deal cannot be linked to itself' }]);
  }
  const linking = changeDeal(ctx, request, async (trx, deal) => {
    const other = await findDeal(trx, input.otherDealId);
    if (!other) throw problems.validation([{ field: 'body.otherDealId', message: 'no deal has this id' }]);
    if (await linkExists(trx, deal.id, other.id)) {
      throw problems.conflict(`"${deal.name}" and "${other.name}" are already linked`);
    }
    const link: LinkRecord = {
      id: ctx.newId(),
      otherDealId: other.id,
      otherDealName: other.name,
      otherDealSlug: other.slug,
      recordedOnDealId: deal.id,
      note: input.note ?? null,
      meetingId: input.meetingId ?? null,
      recordedAt: ctx.clock.now(),
    };
    await insertLink(trx, { ...link, dealId: deal.id });
    const { version } = await recordChange(trx, ctx, deal, request.actor, linkCreated, {
      dealId: deal.id,
      linkId: link.id,
      otherDealId: other.id,
      note: link.note,
      meetingId: link.meetingId,
    });
    return { link, version };
  });
  return linking.catch((err: { code?: string; constraint?: string }) => {
    // The same pair linked from both ends at once: the pair index lets only one through.
    if (err?.code === '23505' && err.constraint === 'deal_link_pair_idx') {
      throw problems.conflict('these deals are already linked');
    }
    throw err;
  });
}
