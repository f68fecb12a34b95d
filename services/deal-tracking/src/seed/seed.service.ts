import { type Actor, type DealPhase, dealPhaseTransitions } from '@citydeals/contracts';
import { sql } from 'kysely';
import { addPerson, joinPartner, linkDeals, recordLesson, recordResult } from '../content/content.service.ts';
import type { ServiceContext } from '../context.ts';
import { findDealBySlug } from '../deals/deal.repository.ts';
import { slugFromName } from '../deals/deal.rules.ts';
import { type ChangeRequest, createDeal, transitionDeal } from '../deals/deal.service.ts';
import { SEED_NAME, type SeedDeal, seedDeals, seedLinks } from './seed.data.ts';

export const seedActor: Actor = { type: 'system', id: 'demo-seed', name: 'Demo data (CoP 23 november 2023)' };

/** The forward path from `preparing` to a phase, one legal step at a time. */
export function pathTo(target: DealPhase): DealPhase[] {
  const path: DealPhase[] = [];
  let phase: DealPhase = 'preparing';
  while (phase !== target) {
    const next: DealPhase | undefined = dealPhaseTransitions[phase].find((p) => p !== 'discontinued');
    if (!next) throw new Error(`no forward path from preparing to ${target}`);
    path.push(next);
    phase = next;
  }
  return path;
}

/**
 * Seeds the demo deals through the same service functions as the API, so every change has its version,
 * history row and event. Once and idempotently: replicas starting together queue on an advisory lock, a
 * marker row says the seed is done, and a deal that already exists (a seed cut short) is not made twice.
 * Returns how many deals it created.
 */
export async function seedDemoData(ctx: ServiceContext): Promise<number> {
  return ctx.db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(hashtext('deal_tracking.demo-seed'))`.execute(conn);
    try {
      const done = await conn
        .selectFrom('seed_run')
        .select('name')
        .where('name', '=', SEED_NAME)
        .executeTakeFirst();
      if (done) return 0;
      let created = 0;
      for (const deal of seedDeals) {
        if (await seedDeal(ctx, deal)) created++;
      }
      for (const link of seedLinks) await seedLink(ctx, link);
      await conn.insertInto('seed_run').values({ name: SEED_NAME, completed_at: ctx.clock.now() }).execute();
      return created;
    } finally {
      await sql`select pg_advisory_unlock(hashtext('deal_tracking.demo-seed'))`.execute(conn);
    }
  });
}

async function seedDeal(ctx: ServiceContext, seed: SeedDeal): Promise<boolean> {
  if (await findDealBySlug(ctx.db, slugFromName(seed.name))) return false;
  const deal = await createDeal(
    ctx,
    {
      name: seed.name,
      kind: seed.kind,
      summary: seed.summary,
      themes: seed.themes,
      signedOn: seed.signedOn ?? null,
      termEndsOn: seed.termEndsOn ?? null,
      tranche: seed.tranche ?? null,
    },
    seedActor,
  );
  const change: ChangeRequest = { dealId: deal.id, ifMatch: { kind: 'none' }, actor: seedActor };
  const path = pathTo(seed.phase);
  for (const [i, to] of path.entries()) {
    const reason =
      i === path.length - 1
        ? seed.phaseReason
        : `Eerdere stap op weg naar de stand van zaken van 23 november 2023.`;
    await transitionDeal(ctx, change, { to, reason });
  }
  for (const person of seed.people) await addPerson(ctx, change, person);
  for (const partner of seed.partners) await joinPartner(ctx, change, partner);
  for (const result of seed.results) await recordResult(ctx, change, result);
  for (const lesson of seed.lessons) await recordLesson(ctx, change, lesson);
  return true;
}

async function seedLink(ctx: ServiceContext, link: (typeof seedLinks)[number]) {
  const [from, to] = await Promise.all([
    findDealBySlug(ctx.db, slugFromName(link.from)),
    findDealBySlug(ctx.db, slugFromName(link.to)),
  ]);
  if (!from || !to) throw new Error(`seed link ${link.from} → ${link.to} names an unknown deal`);
  await linkDeals(
    ctx,
    { dealId: from.id, ifMatch: { kind: 'none' }, actor: seedActor },
    { otherDealId: to.id, note: link.note },
  ).catch((err: { problem?: { status?: number } }) => {
    // Already linked by a seed that was cut short after the link.
    if (err?.problem?.status !== 409) throw err;
  });
}
