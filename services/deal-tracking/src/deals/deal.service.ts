import {
  type Actor,
  type DealPhase,
  dealCreated,
  dealPhaseChanged,
  dealTermExtended,
  dealTrancheStarted,
  dealUpdated,
  type EventDefinition,
  type EventOf,
} from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import { HttpProblem, problems } from '@citydeals/service-kit';
import type { Transaction } from 'kysely';
import type { z } from 'zod';
import { insertChange } from '../changes/change.repository.ts';
import { dealContent } from '../content/content.repository.ts';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import {
  type DealFilter,
  type DealRecord,
  findDeal,
  findDealBySlug,
  insertDeal,
  listDeals,
  lockDeal,
  slugOwner,
  updateDeal,
} from './deal.repository.ts';
import {
  checkDetails,
  type DealDetails,
  type DealEdit,
  decideExtension,
  decideTranche,
  type IfMatch,
  ifMatchHolds,
  isOverdue,
  looksLikeId,
  planEdit,
  slugFromName,
  todayIn,
} from './deal.rules.ts';
import { decideTransition } from './phase.rules.ts';

/** Who asks for a change of which deal, and on which version they based it. */
export interface ChangeRequest {
  dealId: string;
  ifMatch: IfMatch;
  actor: Actor;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event payload without what every deal change adds itself: version, actor, time. */
export type ChangeData<D extends EventDefinition> = DistributiveOmit<
  z.input<D['data']>,
  'version' | 'actor' | 'occurredAt'
>;

export interface RecordedChange {
  version: number;
  event: EventOf<EventDefinition>;
}

/**
 * Runs one change of a deal in one transaction: locks the deal (so changes of a deal are serialised and
 * versions never collide) and checks `If-Match` against the locked version, before `work` writes anything.
 */
export async function changeDeal<R>(
  ctx: ServiceContext,
  request: ChangeRequest,
  work: (trx: Transaction<Database>, deal: DealRecord) => Promise<R>,
): Promise<R> {
  return ctx.db.transaction().execute(async (trx) => {
    const deal = await lockDeal(trx, request.dealId);
    if (!deal) throw problems.notFound(`deal ${request.dealId}`);
    if (!ifMatchHolds(request.ifMatch, deal.version)) {
      throw new HttpProblem(
        412,
        'precondition-failed',
        'Precondition failed',
        `the deal is at version ${deal.version}, not the one in If-Match; read it again and retry`,
        { currentVersion: deal.version },
      );
    }
    return work(trx, deal);
  });
}

/**
 * Records a change of a deal locked by `changeDeal`: the next version, a history row and the event in the
 * outbox, all in the caller's transaction, so the state change and its announcement commit together.
 */
export async function recordChange<D extends EventDefinition>(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  deal: DealRecord,
  actor: Actor,
  definition: D,
  data: ChangeData<D>,
): Promise<RecordedChange> {
  const version = deal.version + 1;
  const now = ctx.clock.now();
  await updateDeal(trx, deal.id, { version, updated_at: now });
  deal.version = version;
  deal.updatedAt = now;
  return appendChange(trx, ctx, deal.id, version, actor, definition, data);
}

async function appendChange<D extends EventDefinition>(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  dealId: string,
  version: number,
  actor: Actor,
  definition: D,
  data: ChangeData<D>,
): Promise<RecordedChange> {
  const occurredAt = ctx.clock.now();
  const event = await enqueueEvent(trx, definition, {
    id: ctx.newId(),
    time: occurredAt,
    source: EVENT_SOURCE,
    subject: dealId,
    data: { ...data, version, actor, occurredAt: occurredAt.toISOString() } as z.input<D['data']>,
  });
  await insertChange(trx, { dealId, version, subject: definition.subject, event, occurredAt });
  return { version, event: event as EventOf<EventDefinition> };
}

/** The deal as `deal.created` / `deal.updated` carry it (without version, actor and time). */
export function snapshotOf(deal: DealRecord) {
  return {
    ...refOf(deal),
    summary: deal.summary,
    themes: deal.themes,
    signedOn: deal.signedOn,
    termEndsOn: deal.termEndsOn,
    tranche: deal.tranche,
  };
}

/** What every event about a deal names it by. */
export function refOf(deal: DealRecord) {
  return { dealId: deal.id, name: deal.name, slug: deal.slug, kind: deal.kind, phase: deal.phase };
}

const detailsOf = (deal: DealRecord): DealDetails => ({
  name: deal.name,
  slug: deal.slug,
  kind: deal.kind,
  summary: deal.summary,
  themes: deal.themes,
  signedOn: deal.signedOn,
  termEndsOn: deal.termEndsOn,
  tranche: deal.tranche,
});

async function ensureSlugFree(trx: Transaction<Database>, slug: string, dealId: string) {
  const owner = await slugOwner(trx, slug);
  if (owner !== undefined && owner !== dealId) throw slugTaken(slug);
}

const slugTaken = (slug: string) =>
  problems.conflict(`another deal already has the slug "${slug}"`, {
    errors: [{ field: 'body.slug', message: 'is taken by another deal' }],
  });

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === constraint;
}

export interface NewDeal
  extends Omit<DealDetails, 'slug' | 'summary' | 'themes' | 'signedOn' | 'termEndsOn' | 'tranche'> {
  slug?: string | undefined;
  summary?: string | null | undefined;
  themes?: string[] | undefined;
  signedOn?: string | null | undefined;
  termEndsOn?: string | null | undefined;
  tranche?: number | null | undefined;
}

/** A new deal starts in `preparing` (the programme's exploration); later phases come by transitions. */
export async function createDeal(ctx: ServiceContext, input: NewDeal, actor: Actor): Promise<DealRecord> {
  const details: DealDetails = {
    name: input.name,
    slug: input.slug ?? slugFromName(input.name),
    kind: input.kind,
    summary: input.summary ?? null,
    themes: input.themes ?? [],
    signedOn: input.signedOn ?? null,
    termEndsOn: input.termEndsOn ?? null,
    tranche: input.tranche ?? null,
  };
  if (details.slug === '') {
    throw problems.validation([{ field: 'body.name', message: 'needs letters or digits to make a slug' }]);
  }
  const errors = checkDetails(details);
  if (errors.length) throw problems.validation(errors);
  const now = ctx.clock.now();
  const deal: DealRecord = {
    id: ctx.newId(),
    ...details,
    phase: 'preparing',
    phaseSince: now,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await ensureSlugFree(trx, deal.slug, deal.id);
      await insertDeal(trx, {
        id: deal.id,
        slug: deal.slug,
        name: deal.name,
        kind: deal.kind,
        summary: deal.summary,
        themes: deal.themes,
        signed_on: deal.signedOn,
        term_ends_on: deal.termEndsOn,
        tranche: deal.tranche,
        phase: deal.phase,
        phase_since: now,
        version: 1,
        created_at: now,
        updated_at: now,
      });
      await appendChange(trx, ctx, deal.id, 1, actor, dealCreated, snapshotOf(deal));
    });
  } catch (err) {
    // Two creations with one slug at the same moment: the unique index decides.
    if (isUniqueViolation(err, 'deal_slug_key')) throw slugTaken(deal.slug);
    throw err;
  }
  return deal;
}

/** Edits details; an edit that changes nothing is answered with the deal as it is, with no new version. */
export async function editDeal(
  ctx: ServiceContext,
  request: ChangeRequest,
  edit: DealEdit,
): Promise<DealRecord> {
  const editing = changeDeal(ctx, request, async (trx, deal) => {
    const plan = planEdit(detailsOf(deal), edit);
    if (!plan.ok) throw problems.validation(plan.errors);
    if (plan.changedFields.length === 0) return deal;
    if (plan.changedFields.includes('slug')) await ensureSlugFree(trx, plan.next.slug, deal.id);
    const { next } = plan;
    await updateDeal(trx, deal.id, {
      name: next.name,
      slug: next.slug,
      kind: next.kind,
      summary: next.summary,
      themes: next.themes,
      signed_on: next.signedOn,
      term_ends_on: next.termEndsOn,
      tranche: next.tranche,
    });
    Object.assign(deal, next);
    await recordChange(trx, ctx, deal, request.actor, dealUpdated, {
      ...snapshotOf(deal),
      changedFields: plan.changedFields,
    });
    return deal;
  });
  return editing.catch((err) => {
    // Two deals renamed to one slug at the same moment: the unique index decides.
    if (isUniqueViolation(err, 'deal_slug_key')) throw slugTaken(edit.slug ?? '');
    throw err;
  });
}

export async function transitionDeal(
  ctx: ServiceContext,
  request: ChangeRequest,
  input: { to: DealPhase; reason: string },
): Promise<DealRecord> {
  return changeDeal(ctx, request, async (trx, deal) => {
    const decision = decideTransition(deal.phase, input.to);
    if (!decision.allowed) {
      throw new HttpProblem(409, 'illegal-transition', 'Phase change not allowed', decision.why, {
        from: decision.from,
        to: decision.to,
        allowedPhases: decision.allowedPhases,
      });
    }
    const now = ctx.clock.now();
    await updateDeal(trx, deal.id, { phase: input.to, phase_since: now });
    deal.phase = input.to;
    deal.phaseSince = now;
    await recordChange(trx, ctx, deal, request.actor, dealPhaseChanged, {
      ...refOf(deal),
      from: decision.from,
      to: decision.to,
      reason: input.reason,
    });
    return deal;
  });
}

function refuse(decision: { status: 409 | 400; field?: string; message: string }): never {
  if (decision.status === 400 && decision.field) {
    throw problems.validation([{ field: decision.field, message: decision.message }]);
  }
  throw problems.conflict(decision.message);
}

export async function extendTerm(
  ctx: ServiceContext,
  request: ChangeRequest,
  input: { termEndsOn: string; reason: string },
): Promise<DealRecord> {
  return changeDeal(ctx, request, async (trx, deal) => {
    const decision = decideExtension(deal, input.termEndsOn);
    if (!decision.ok) refuse(decision);
    const previous = deal.termEndsOn;
    await trx
      .insertInto('deal_extension')
      .values({
        id: ctx.newId(),
        deal_id: deal.id,
        previous_term_ends_on: previous,
        term_ends_on: input.termEndsOn,
        reason: input.reason,
        recorded_at: ctx.clock.now(),
      })
      .execute();
    await updateDeal(trx, deal.id, { term_ends_on: input.termEndsOn });
    deal.termEndsOn = input.termEndsOn;
    await recordChange(trx, ctx, deal, request.actor, dealTermExtended, {
      ...refOf(deal),
      previousTermEndsOn: previous,
      termEndsOn: input.termEndsOn,
      reason: input.reason,
    });
    return deal;
  });
}

/** A new tranche is a change of the deal's `tranche` field, announced with its start date. */
export async function startTranche(
  ctx: ServiceContext,
  request: ChangeRequest,
  input: { tranche: number; startsOn: string; note?: string | null | undefined },
): Promise<DealRecord> {
  return changeDeal(ctx, request, async (trx, deal) => {
    const decision = decideTranche(deal, input.tranche);
    if (!decision.ok) refuse(decision);
    await trx
      .insertInto('deal_tranche')
      .values({
        id: ctx.newId(),
        deal_id: deal.id,
        tranche: input.tranche,
        starts_on: input.startsOn,
        note: input.note ?? null,
        recorded_at: ctx.clock.now(),
      })
      .execute();
    const previousTranche = deal.tranche;
    await updateDeal(trx, deal.id, { tranche: input.tranche });
    deal.tranche = input.tranche;
    await recordChange(trx, ctx, deal, request.actor, dealTrancheStarted, {
      ...refOf(deal),
      tranche: input.tranche,
      previousTranche,
      startsOn: input.startsOn,
      note: input.note ?? null,
    });
    return deal;
  });
}

export async function findDealByIdOrSlug(ctx: ServiceContext, idOrSlug: string): Promise<DealRecord> {
  const deal = looksLikeId(idOrSlug)
    ? await findDeal(ctx.db, idOrSlug)
    : await findDealBySlug(ctx.db, idOrSlug);
  if (!deal) throw problems.notFound(`deal ${idOrSlug}`);
  return deal;
}

export async function getDealDetail(ctx: ServiceContext, idOrSlug: string) {
  const deal = await findDealByIdOrSlug(ctx, idOrSlug);
  return { ...withOverdue(ctx, deal), ...(await dealContent(ctx.db, deal.id)) };
}

export async function listDealsPage(ctx: ServiceContext, filter: DealFilter) {
  const today = todayIn(ctx.clock.now());
  const page = await listDeals(ctx.db, filter, today);
  return { items: page.items.map((d) => ({ ...d, overdue: isOverdue(d, today) })), total: page.total };
}

export function withOverdue(ctx: ServiceContext, deal: DealRecord) {
  return { ...deal, overdue: isOverdue(deal, todayIn(ctx.clock.now())) };
}
