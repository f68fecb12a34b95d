import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { ConsumerRunner } from './consumer-runner.ts';
import type { DeadLetterTable, MessagingTables } from './messaging-tables.ts';

export type DeadLetter = Selectable<DeadLetterTable>;

/** Dead letters nobody has retried or resolved (the open-letters index answers it). */
export async function countOpenDeadLetters<DB>(db: Kysely<DB>): Promise<number> {
  const { rows } = await sql<{ open: number }>`
    select count(*)::int as open from dead_letter where resolved_at is null`.execute(db);
  return rows[0]?.open ?? 0;
}

export function listDeadLetters(
  db: Kysely<MessagingTables>,
  filter: { consumer?: string | undefined; includeResolved?: boolean; limit: number },
): Promise<DeadLetter[]> {
  let query = db.selectFrom('dead_letter').selectAll().orderBy('id').limit(filter.limit);
  if (filter.consumer) query = query.where('consumer', '=', filter.consumer);
  if (!filter.includeResolved) query = query.where('resolved_at', 'is', null);
  return query.execute();
}

export type RetryResult =
  | { status: 'not-found' }
  | { status: 'already-resolved' }
  | { status: 'no-consumer'; consumer: string }
  | { status: 'resolved'; outcome: 'handled' | 'duplicate' | 'ignored' }
  | { status: 'still-failing'; error: string };

/**
 * Runs a dead-lettered event through its consumer's normal path again (validation, inbox, handler), after
 * an operator fixed the cause. The inbox still guarantees a single effect.
 */
export async function retryDeadLetter<DB extends MessagingTables>(
  db: Kysely<MessagingTables>,
  runners: ReadonlyMap<string, ConsumerRunner<DB>>,
  id: number,
): Promise<RetryResult> {
  const row = await db.selectFrom('dead_letter').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return { status: 'not-found' };
  if (row.resolved_at) return { status: 'already-resolved' };
  const runner = runners.get(row.consumer);
  if (!runner) return { status: 'no-consumer', consumer: row.consumer };
  const outcome = await runner.process(row.payload, {
    deliveryCount: row.deliveries + 1,
    streamSequence: undefined,
  });
  if (outcome.kind === 'poison' || outcome.kind === 'failed') {
    const error = outcome.kind === 'poison' ? outcome.error : String(outcome.error);
    await db
      .updateTable('dead_letter')
      .set({ error, deliveries: row.deliveries + 1 })
      .where('id', '=', id)
      .execute();
    return { status: 'still-failing', error };
  }
  await db
    .updateTable('dead_letter')
    .set({ resolved_at: new Date(), resolution: `retried: ${outcome.kind}` })
    .where('id', '=', id)
    .execute();
  return { status: 'resolved', outcome: outcome.kind };
}

/**
 * Erasure: a dead letter about the entity (any whose payload names its id) loses its payload, which may
 * hold the personal data being erased; the row, its error and its place stay for operators, resolved.
 */
export async function redactDeadLettersAbout<DB extends MessagingTables>(
  trx: Transaction<DB>,
  entity: string,
  at: Date,
): Promise<number> {
  const result = await sql`
    update dead_letter
    set payload = ${JSON.stringify({ redacted: 'erased', entity })},
      resolved_at = coalesce(resolved_at, ${at}), resolution = coalesce(resolution, 'erased')
    where strpos(payload, ${entity}) > 0`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}
