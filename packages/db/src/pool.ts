import { Kysely } from 'kysely';
import pg from 'pg';
import { CommitSignals, SignallingDialect } from './commit-signals.ts';
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

/**
 * Planner settings of the connections behind `Database.indexPlannedDb`: no sorts, bitmap scans, hash joins
 * or merge joins, which leaves the index walks and nested loops by primary key that statements taking or
 * settling a bounded batch of a queue table need. Queue tables go from nearly empty to thousands of rows
 * between two autovacuum analyses (a burst after a quiet spell, a fresh deployment); planned on statistics
 * that say they are nearly empty, Postgres read and sorted every due row to take 50, or hashed the whole
 * table to update 50 rows by id: a cost per statement that grows with the backlog.
 */
export const INDEX_PLANNED_SETTINGS = {
  enable_sort: 'off',
  enable_bitmapscan: 'off',
  enable_hashjoin: 'off',
  enable_mergejoin: 'off',
} as const;

declare const indexPlanned: unique symbol;
/**
 * A Kysely instance whose every connection plans by index (INDEX_PLANNED_SETTINGS) for its whole session,
 * so a statement on a queue table is one round trip, not a transaction that first changes the settings.
 * Functions that take the head of a queue ask for this type, so the compiler keeps them off the general
 * pool. Only for statements that touch a bounded set of rows through an index.
 */
export type IndexPlannedDb<DB> = Kysely<DB> & { readonly [indexPlanned]: true };

/** Connections of the index-planned pool: the workers that take and settle queue batches. */
const INDEX_PLANNED_CONNECTIONS = 6;

export interface Database<DB> {
  readonly db: Kysely<DB>;
  /** The queue workers' statements, on a small pool of its own (see IndexPlannedDb). */
  readonly indexPlannedDb: IndexPlannedDb<DB>;
  readonly pool: pg.Pool;
  readonly schema: string;
  /**
   * Calls `listener` after each commit through `db` or `indexPlannedDb` that raised `signal` with
   * `signalAfterCommit` (messaging's writes of events wake the outbox relay this way); returns the unsubscribe.
   */
  onCommit(signal: string, listener: () => void): () => void;
  destroy(): Promise<void>;
}

export function createPool(
  options: DatabaseOptions & { settings?: Readonly<Record<string, string>> },
): pg.Pool {
  const settings = { search_path: quoteIdent(options.schema), ...options.settings };
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName ?? options.schema,
    Client: clientWithSettings(settings),
  });
  // A client that loses its server emits 'error'; unheard, that kills the process. Idle clients report to
  // the pool, checked-out ones to nobody (pg-pool removes its listener on checkout), so every client has a
  // listener of its own from birth (ClientWithSettings), also while its settings are being applied, before
  // the pool has it. The failure still reaches whoever awaits a query on it.
  pool.on('error', () => {});
  pool.on('connect', (client) => prepareMarkedStatements(client));
  return pool;
}

/**
 * A pg client that applies the session settings with SET as part of connecting, before the pool hands it
 * out. Not as the `options` startup parameter: PgBouncer refuses that parameter ("unsupported startup
 * parameter: options"), while in session mode it keeps a SET for the client's whole session.
 */
function clientWithSettings(settings: Readonly<Record<string, string>>) {
  const statements = Object.entries(settings)
    .map(([name, value]) => `set ${name} = ${value}`)
    .join('; ');
  return class ClientWithSettings extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      this.on('error', () => {});
    }

    override connect(): Promise<pg.Client>;
    override connect(callback: (err: Error | null) => void): void;
    override connect(callback?: (err: Error | null) => void): Promise<pg.Client> | undefined {
      const connected = super
        .connect()
        .then(() => super.query(statements))
        .then(() => this);
      if (!callback) return connected;
      connected.then(
        () => callback(null),
        (err: Error) => callback(err),
      );
      return undefined;
    }
  };
}

export function createDatabase<DB>(options: DatabaseOptions): Database<DB> {
  const pool = createPool(options);
  const commits = new CommitSignals();
  const db = new Kysely<DB>({ dialect: new SignallingDialect({ pool }, commits) });
  // pg opens connections on first use, so a service without queue workers never connects this pool.
  const indexPlannedPool = createPool({
    ...options,
    maxConnections: INDEX_PLANNED_CONNECTIONS,
    applicationName: `${options.applicationName ?? options.schema}-queues`,
    settings: INDEX_PLANNED_SETTINGS,
  });
  const indexPlannedDb = new Kysely<DB>({
    dialect: new SignallingDialect({ pool: indexPlannedPool }, commits),
  }) as IndexPlannedDb<DB>;
  return {
    db,
    indexPlannedDb,
    pool,
    schema: options.schema,
    onCommit: (signal, listener) => commits.subscribe(signal, listener),
    async destroy() {
      await Promise.all([db.destroy(), indexPlannedDb.destroy()]);
    },
  };
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
