import { Kysely } from 'kysely';
import pg from 'pg';
import { OutboxCommitSignal, OutboxSignallingDialect } from './outbox-commits.ts';
import { prepareMarkedStatements } from './prepared-statements.ts';

// Postgres `bigint` and `numeric` arrive as strings by default; ids and counters here fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export interface DatabaseOptions {
  connectionString: string;
  /** The service's own schema: first on the search path, so unqualified names resolve there. */
  schema: string;
  maxConnections?: number;
  applicationName?: string;
}

export interface Database<DB> {
  readonly db: Kysely<DB>;
  readonly pool: pg.Pool;
  readonly schema: string;
  /**
   * Calls `listener` after each commit through `db` that inserted outbox rows (the relay's wake-up);
   * returns the unsubscribe.
   */
  onOutboxCommit(listener: () => void): () => void;
  destroy(): Promise<void>;
}

export function createPool(options: DatabaseOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName ?? options.schema,
    options: `-c search_path=${quoteIdent(options.schema)}`,
  });
  // A client that loses its server emits 'error'; unheard, that kills the process. Idle clients report to
  // the pool, checked-out ones to nobody (pg-pool removes its listener on checkout), so every client gets a
  // listener of its own. The failure still reaches whoever awaits a query on it.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
    prepareMarkedStatements(client);
  });
  return pool;
}

export function createDatabase<DB>(options: DatabaseOptions): Database<DB> {
  const pool = createPool(options);
  const outboxCommits = new OutboxCommitSignal();
  const db = new Kysely<DB>({ dialect: new OutboxSignallingDialect({ pool }, outboxCommits) });
  return {
    db,
    pool,
    schema: options.schema,
    onOutboxCommit: (listener) => outboxCommits.subscribe(listener),
    destroy: () => db.destroy(),
  };
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
