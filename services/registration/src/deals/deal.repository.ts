import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';

export interface DealProjection {
  id: string;
  name: string;
  slug: string;
  kind: string;
  phase: string;
  version: number;
}

/**
 * Inserts or moves the deal forward; a version not newer than the stored one changes nothing, so late,
 * repeated and reordered events never move the projection backwards. Returns whether it applied.
 */
export async function applyDealVersion(
  trx: Transaction<Database>,
  deal: DealProjection,
  at: Date,
): Promise<boolean> {
  const result = await trx
    .insertInto('deals')
    .values({ ...deal, updated_at: at })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({
          name: (eb) => eb.ref('excluded.name'),
          slug: (eb) => eb.ref('excluded.slug'),
          kind: (eb) => eb.ref('excluded.kind'),
          phase: (eb) => eb.ref('excluded.phase'),
          version: (eb) => eb.ref('excluded.version'),
          updated_at: (eb) => eb.ref('excluded.updated_at'),
        })
        .where('deals.version', '<', sql<number>`excluded.version`),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function dealExists(db: Kysely<Database>, id: string): Promise<boolean> {
  return (await db.selectFrom('deals').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

export function listDeals(db: Kysely<Database>) {
  return db.selectFrom('deals').selectAll().orderBy('name').execute();
}
