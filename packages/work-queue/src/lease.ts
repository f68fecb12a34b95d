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
  /** The prepared statement's name (see `prepared` in `@citydeals/db`); renewing uses `<name>-renew`. */
  statementName: string;
  /** The SQL type of `id`; `uuid` when not given. */
  idType?: string;
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

/** A leased row as its worker knows it: its id and the attempts its lease counted (the fencing token). */
export interface HeldRow {
  id: string;
  attempts: number;
}

/**
 * Extends the leases of rows a worker still holds to `leaseUntil`, in one statement. A worker renews while
 * it works its rows, so a row is taken over only once its holder stopped renewing (it died, froze, or lost
 * track of the row), never because its work is slow. Fenced like settling: a row taken over (other
 * attempts), settled, or no longer ready is left alone. Returns the ids renewed; a held row missing from
 * them must not be worked any further, as another worker may have it.
 */
export async function renewLeases<DB>(
  db: Kysely<DB>,
  table: DueRowsTable,
  rows: readonly HeldRow[],
  leaseUntil: Date,
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const name = sql.table(table.table);
  const leasedUntil = sql.ref(table.leasedUntilColumn);
  const attempts = sql.ref(table.attemptsColumn);
  const idType = sql.raw(table.idType ?? 'uuid');
  const { rows: renewed } = await sql<{ id: string }>`${prepared(`${table.statementName}-renew`)}
    update ${name} as q
    set ${sql.ref(table.dueColumn)} = ${leaseUntil}, ${leasedUntil} = ${leaseUntil}
    from unnest(${rows.map((r) => r.id)}::${idType}[], ${rows.map((r) => r.attempts)}::int[])
      as held(id, attempts)
    where q.id = held.id and q.${attempts} = held.attempts and q.${leasedUntil} is not null
      and q.${sql.ref(table.readyWhen.column)} = ${table.readyWhen.equals}
    returning q.id::text as id`.execute(db);
  return new Set(renewed.map((r) => r.id));
}

/**
 * When the next ready row of `table` falls due after `now`, leased or not (a leased row is due when its
 * lease runs out): what a worker that found nothing due sleeps until. Rows due already are left out: the
 * lease just made took all it could, so those are in another worker's hands. Undefined when none is waiting.
 */
export async function nextDueAt<DB>(
  db: Kysely<DB>,
  table: DueRowsTable,
  now: Date,
): Promise<Date | undefined> {
  const due = sql.ref(table.dueColumn);
  const { rows } = await sql<{ due: Date | null }>`${prepared(`${table.statementName}-next`)}
    select min(${due}) as due from ${sql.table(table.table)}
    where ${sql.ref(table.readyWhen.column)} = ${table.readyWhen.equals} and ${due} > ${now}`.execute(db);
  const next = rows[0]?.due;
  return next ? new Date(next) : undefined;
}
