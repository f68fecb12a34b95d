import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export class TransactionPoolingError extends Error {
  constructor(detail: string) {
    super(
      `DATABASE_URL leads to a connection pooler that shares server sessions between clients (${detail}). ` +
        'The services keep state in their sessions (named prepared statements, the outbox relay’s advisory ' +
        'lock, planner settings, search_path): put the pooler in session mode (PgBouncer pool_mode = session) ' +
        'or connect to Postgres directly.',
    );
    this.name = 'TransactionPoolingError';
  }
}

/**
 * Refuses to run behind a transaction- or statement-mode pooler (PgBouncer, pgcat, RDS Proxy, Supavisor's
 * transaction port), where a session setting, a session advisory lock or a prepared statement of one client
 * can show up on another's statements, or vanish between two of its own.
 *
 * The probe: client A sets a session value; client B, in a transaction, looks for it; A looks again. Directly
 * or through a session-mode pooler, B never sees A's value and A always keeps its own backend and value. A
 * transaction-mode pooler hands A's server to B as soon as A's statement ends (PgBouncer reuses the most
 * recently released server first), or, if B got another one, A's next statement may run elsewhere. A
 * statement-mode pooler refuses B's transaction. Repeated, since another client of the pooler can take the
 * released server in between. Needs two connections of the pool.
 */
export async function refuseTransactionPooling(pool: pg.Pool, rounds = 3): Promise<void> {
  const a = await pool.connect();
  let b: pg.PoolClient | undefined;
  try {
    b = await pool.connect();
    for (let round = 0; round < rounds; round++) {
      const token = randomUUID();
      const set = await a.query<{ pid: number }>(
        `select pg_backend_pid() as pid, set_config('citydeals.session_probe', $1, false)`,
        [token],
      );
      let seen: pg.QueryResult<{ value: string | null }>;
      try {
        await b.query('begin');
        seen = await b.query(`select current_setting('citydeals.session_probe', true) as value`);
        await b.query('commit');
      } catch (err) {
        throw new TransactionPoolingError(`a transaction was refused: ${(err as Error).message}`);
      }
      const again = await a.query<{ pid: number; value: string | null }>(
        `select pg_backend_pid() as pid, current_setting('citydeals.session_probe', true) as value`,
      );
      if (seen.rows[0]?.value === token) {
        throw new TransactionPoolingError('one client saw a session setting of another');
      }
      if (again.rows[0]?.pid !== set.rows[0]?.pid || again.rows[0]?.value !== token) {
        throw new TransactionPoolingError('a client’s statements ran on different server sessions');
      }
    }
    await a.query(`select set_config('citydeals.session_probe', '', false)`);
  } finally {
    a.release();
    b?.release();
  }
}
