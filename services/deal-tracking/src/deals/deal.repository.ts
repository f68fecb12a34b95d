import type { DealKind, DealPhase } from '@citydeals/contracts';
import {
  type Expression,
  type Insertable,
  type Kysely,
  type RawBuilder,
  type SelectQueryBuilder,
  sql,
  type Transaction,
  type Updateable,
} from 'kysely';
import type { Database, DealTable } from '../db/database.ts';

export interface DealRecord {
  id: string;
  slug: string;
  name: string;
  kind: DealKind;
  summary: string | null;
  themes: string[];
  signedOn: string | null;
  termEndsOn: string | null;
  tranche: number | null;
  phase: DealPhase;
  phaseSince: Date;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** node-postgres would parse `date` into a local-midnight Date; the API and events want the ISO date. */
export function isoDate(column: Expression<unknown> | string): RawBuilder<string> {
  const ref = typeof column === 'string' ? sql.ref(column) : column;
  return sql<string>`to_char(${ref}, 'YYYY-MM-DD')`;
}

function selectDeal<O>(query: SelectQueryBuilder<Database, 'deal', O>) {
  return query.select([
    'deal.id',
    'deal.slug',
    'deal.name',
    'deal.kind',
    'deal.summary',
    'deal.themes',
    isoDate('deal.signed_on').$castTo<string | null>().as('signedOn'),
    isoDate('deal.term_ends_on').$castTo<string | null>().as('termEndsOn'),
    'deal.tranche',
    'deal.phase',
    'deal.phase_since as phaseSince',
    'deal.version',
    'deal.created_at as createdAt',
    'deal.updated_at as updatedAt',
  ]);
}

export async function insertDeal(trx: Transaction<Database>, row: Insertable<DealTable>): Promise<void> {
  await trx.insertInto('deal').values(row).execute();
}

/**
 * Locks the deal row for the rest of the transaction: every change of a deal goes through here first, so
 * changes of one deal are serialised and each gets the next version.
 */
export async function lockDeal(trx: Transaction<Database>, id: string): Promise<DealRecord | undefined> {
  return selectDeal(trx.selectFrom('deal').where('deal.id', '=', id))
    .forUpdate()
    .executeTakeFirst();
}

export async function findDeal(db: Kysely<Database>, id: string): Promise<DealRecord | undefined> {
  return selectDeal(db.selectFrom('deal').where('deal.id', '=', id)).executeTakeFirst();
}

export async function findDealBySlug(db: Kysely<Database>, slug: string): Promise<DealRecord | undefined> {
  return selectDeal(db.selectFrom('deal').where('deal.slug', '=', slug)).executeTakeFirst();
}

export async function slugOwner(db: Kysely<Database>, slug: string): Promise<string | undefined> {
  const row = await db.selectFrom('deal').select('id').where('slug', '=', slug).executeTakeFirst();
  return row?.id;
}

export async function updateDeal(
  trx: Transaction<Database>,
  id: string,
  values: Omit<Updateable<DealTable>, 'id' | 'created_at'>,
): Promise<void> {
  await trx.updateTable('deal').set(values).where('id', '=', id).execute();
}

export interface DealFilter {
  phase?: DealPhase[] | undefined;
  kind?: DealKind | undefined;
  theme?: string | undefined;
  q?: string | undefined;
  overdue?: boolean | undefined;
  limit: number;
  offset: number;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `today` decides "overdue" (see deal.rules.ts isOverdue; kept in step with it). */
export async function listDeals(
  db: Kysely<Database>,
  filter: DealFilter,
  today: string,
): Promise<{ items: DealRecord[]; total: number }> {
  let query = db.selectFrom('deal');
  if (filter.phase?.length) query = query.where('deal.phase', 'in', filter.phase);
  if (filter.kind) query = query.where('deal.kind', '=', filter.kind);
  if (filter.theme) query = query.where(sql<boolean>`${filter.theme} = any(deal.themes)`);
  if (filter.q) {
    const pattern = `%${escapeLike(filter.q)}%`;
    query = query.where(
      sql<boolean>`(deal.name ilike ${pattern} or deal.slug ilike ${pattern} or coalesce(deal.summary, '') ilike ${pattern}
        or exists (select 1 from unnest(deal.themes) as theme where theme ilike ${pattern}))`,
    );
  }
  if (filter.overdue !== undefined) {
    const overdue = sql<boolean>`(deal.phase not in ('completed', 'discontinued') and deal.term_ends_on is not null and deal.term_ends_on < ${today}::date)`;
    query = query.where(filter.overdue ? overdue : sql<boolean>`not ${overdue}`);
  }
  const [items, count] = await Promise.all([
    selectDeal(query)
      .orderBy('deal.name')
      .orderBy('deal.id')
      .limit(filter.limit)
      .offset(filter.offset)
      .execute(),
    query.select(sql<number>`count(*)::int`.as('total')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: count.total };
}
