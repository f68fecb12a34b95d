import { prepared } from '@citydeals/db';
import { type Kysely, sql } from 'kysely';

/** The columns of a queue table that `leaseDueRows` uses; its primary key is `id`. */
export interface DueRowsTable {
  table: string;
  /** Only rows in this state are leased, e.g. `{ column: 'status', equals: 'queued' }`. */
  readyWhen: { column: string; equals: string };
  /**
   * When a row is due. A lease moves it to the lease's end, so a row whose worker died (or lost track of
   * it) is simply due again once the lease has run out; settling sets it to the next attempt's time.
   */
  dueColumn: string;
  /** The lease's end; cleared by settling, so a settled row is told from a leased one. */
  leasedUntilColumn: string;
  /** Counted up by every lease: the attempt about to be made, and the fencing token of this lease. */
  attemptsColumn: string;
  /** The prepared statement's name (see `prepared` in `@citydeals/db`). */
  statementName: string;
}

/**
 * Leases up to `limit` due rows of `table`, oldest due first, in one statement that commits on its own (no
 * transaction stays open while the rows are worked). The rows are locked only for that statement, and
 * SKIP LOCKED lets concurrent workers take different rows without waiting for each other. Each row comes
 * back with its attempts counted up and with `due_at`, the time it was due before the lease moved it.
 *
 * Settling must be fenced by the attempts returned here (`where attempts = <leased attempts>`): a worker
 * whose lease ran out and was taken over then records nothing.
 */
export async function leaseDueRows<Row, DB>(
  db: Kysely<DB>,
  table: DueRowsTable,
  options: { now: Date; limit: number; leaseUntil: Date },
): Promise<(Row & { due_at: Date })[]> {
  const name = sql.table(table.table);
  const due = sql.ref(table.dueColumn);
  const attempts = sql.ref(table.attemptsColumn);
  const { rows } = await sql<Row & { due_at: Date }>`${prepared(table.statementName)}
    update ${name} as q
    set ${attempts} = q.${attempts} + 1, ${due} = ${options.leaseUntil},
      ${sql.ref(table.leasedUntilColumn)} = ${options.leaseUntil}
    from (
      select id, ${due} from ${name}
      where ${sql.ref(table.readyWhen.column)} = ${table.readyWhen.equals} and ${due} <= ${options.now}
      order by ${due}
      limit ${options.limit}
      for update skip locked
    ) as due
    where q.id = due.id
    returning q.*, due.${due} as due_at`.execute(db);
  return rows;
}
