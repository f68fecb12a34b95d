import { sql, type Transaction } from 'kysely';

/**
 * For the rest of the transaction, Postgres plans without sorts, bitmap scans, hash joins or merge joins,
 * which leaves the index walks and nested loops by primary key that statements taking or updating a bounded
 * batch of a queue table need. Queue tables go from nearly empty to thousands of rows between two
 * autovacuum analyses (a burst after a quiet spell, a fresh deployment); planned on statistics that say
 * they are nearly empty, Postgres read and sorted every due row to take 50, or hashed the whole table to
 * update 50 rows by id: 20–40 ms per statement at 5 000–10 000 rows, growing with the backlog. Only for
 * transactions whose every statement touches a bounded set of rows through an index.
 */
export async function planByIndex(trx: Transaction<any>): Promise<void> {
  await sql`select set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true),
    set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`.execute(trx);
}
