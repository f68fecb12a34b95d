import { type Actor, dealUpdated } from '@citydeals/contracts';
import { emailDigest } from '@citydeals/service-kit';
import type { Transaction } from 'kysely';
import type { ServiceContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { lockDeal } from '../deals/deal.repository.ts';
import { recordChange, snapshotOf } from '../deals/deal.service.ts';

export const erasureActor: Actor = { type: 'system', id: 'erasure', name: 'Erasure on request' };

/**
 * Removes a person erased on request from every deal they are a contact of, matched by the keyed digest of
 * their address. Each deal touched gets a new version and `deal.updated` (changedFields ["people"]), as when
 * a person is removed by hand. The digest cannot be looked up, so every contact is digested: a deal has a
 * handful of people in roles, and erasures are rare.
 */
export async function eraseContact(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  digest: string,
  key: Buffer | undefined,
): Promise<number> {
  const contacts = await trx.selectFrom('deal_person').select(['id', 'deal_id', 'email']).execute();
  const matching = contacts.filter((c) => emailDigest(c.email, key) === digest);
  // Deals in id order, the one order in which two erasures could lock the same deals.
  const dealIds = [...new Set(matching.map((c) => c.deal_id))].sort();
  for (const dealId of dealIds) {
    const deal = await lockDeal(trx, dealId);
    if (!deal) continue;
    const ids = matching.filter((c) => c.deal_id === dealId).map((c) => c.id);
    await trx.deleteFrom('deal_person').where('id', 'in', ids).execute();
    await recordChange(trx, ctx, deal, erasureActor, dealUpdated, {
      ...snapshotOf(deal),
      changedFields: ['people'],
    });
  }
  return matching.length;
}
