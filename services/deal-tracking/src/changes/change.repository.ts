import type { CloudEvent } from '@citydeals/contracts';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';

export interface ChangeRecord {
  position: number | null;
  dealId: string;
  version: number;
  subject: string;
  event: CloudEvent<string, Record<string, unknown>>;
  occurredAt: Date;
}

export async function insertChange(
  trx: Transaction<Database>,
  change: { dealId: string; version: number; subject: string; event: CloudEvent; occurredAt: Date },
): Promise<void> {
  await trx
    .insertInto('deal_change')
    .values({
      deal_id: change.dealId,
      version: change.version,
      event_id: change.event.id,
      subject: change.subject,
      event: JSON.stringify(change.event),
      occurred_at: change.occurredAt,
      position: null,
    })
    .execute();
}

export async function dealHistory(db: Kysely<Database>, dealId: string): Promise<ChangeRecord[]> {
  const rows = await db
    .selectFrom('deal_change')
    .select(['position', 'deal_id', 'version', 'subject', 'event', 'occurred_at'])
    .where('deal_id', '=', dealId)
    .orderBy('version')
    .execute();
  return rows.map(toRecord);
}

/**
 * The change feed must never skip a change whose transaction committed late. A cursor over an id assigned
 * at insert (bigserial) would: a transaction that took id 5 and commits after id 6 was read is behind the
 * reader's cursor forever. So feed positions are not assigned by writers at all. A single sequencer
 * (serialised by a transaction-scoped advisory lock) gives every *committed* change without a position the
 * next positions, in insert order, right before each read. A change that commits late simply has no
 * position until then and is numbered after everything already handed out: positions only ever grow,
 * every committed change gets exactly one, and the order is the order changes became visible.
 * Changes of one deal keep their version order, because a deal's changes are serialised by its row lock
 * (deal.repository.ts lockDeal) and the next cannot even be inserted before the previous committed.
 * The price: reading the feed writes (it needs the primary), and concurrent readers queue briefly.
 */
export async function sequenceChanges(trx: Transaction<Database>): Promise<number> {
  await sql`select pg_advisory_xact_lock(hashtext('deal_tracking.change-feed-sequencer'))`.execute(trx);
  // A new statement, so its snapshot sees every position the previous holder of the lock committed.
  const result = await sql`
    update deal_change c set position = s.position
    from (
      select id, coalesce((select max(position) from deal_change), 0) + row_number() over (order by id) as position
      from deal_change where position is null
    ) s
    where c.id = s.id`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

export async function changesAfter(
  trx: Transaction<Database>,
  after: number,
  limit: number,
): Promise<ChangeRecord[]> {
  const rows = await trx
    .selectFrom('deal_change')
    .select(['position', 'deal_id', 'version', 'subject', 'event', 'occurred_at'])
    .where('position', '>', after)
    .orderBy('position')
    .limit(limit)
    .execute();
  return rows.map(toRecord);
}

function toRecord(row: {
  position: number | null;
  deal_id: string;
  version: number;
  subject: string;
  event: unknown;
  occurred_at: Date;
}): ChangeRecord {
  return {
    position: row.position,
    dealId: row.deal_id,
    version: row.version,
    subject: row.subject,
    event: row.event as ChangeRecord['event'],
    occurredAt: row.occurred_at,
  };
}
