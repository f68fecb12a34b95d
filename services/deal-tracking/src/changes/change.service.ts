import type { ServiceContext } from '../context.ts';
import { findDealByIdOrSlug } from '../deals/deal.service.ts';
import { type ChangeRecord, changesAfter, dealHistory, sequenceChanges } from './change.repository.ts';

export async function historyOf(ctx: ServiceContext, dealId: string) {
  const deal = await findDealByIdOrSlug(ctx, dealId);
  return { deal, changes: await dealHistory(ctx.db, deal.id) };
}

/** One page of the feed; `next` is the cursor for the following page (the same `after` when caught up). */
export async function changeFeedPage(
  ctx: ServiceContext,
  after: number,
  limit: number,
): Promise<{ items: ChangeRecord[]; next: number; hasMore: boolean }> {
  return ctx.db.transaction().execute(async (trx) => {
    await sequenceChanges(trx);
    const rows = await changesAfter(trx, after, limit + 1);
    const items = rows.slice(0, limit);
    return { items, next: items.at(-1)?.position ?? after, hasMore: rows.length > limit };
  });
}
