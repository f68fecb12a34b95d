import {
  type DatabaseConnection,
  type Driver,
  PostgresDialect,
  type PostgresDialectConfig,
  PostgresDriver,
  type TransactionSettings,
} from 'kysely';

/**
 * Tells in-process listeners (the outbox relay) that a transaction which wrote outbox rows has committed,
 * so the relay starts at once instead of at its next poll. This replaces a NOTIFY trigger: `pg_notify`
 * takes a database-wide lock at commit, which serialised every writer's commits.
 *
 * Only a hint: a missed signal (an outbox insert this cannot recognise, a commit in another process) only
 * waits for the relay's poll, and the relay always selects every unpublished row, so nothing is skipped.
 */
export class OutboxCommitSignal {
  readonly #listeners = new Set<() => void>();

  /** Calls `listener` after each commit that inserted into an outbox; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(): void {
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch {
        // A listener's failure must not turn a successful commit into an error for the writer.
      }
    }
  }
}

// Kysely's compiled insert (`insert into "outbox"` or `"schema"."outbox"`) and hand-written SQL alike,
// also inside a CTE (`with … announced as (insert into outbox …) select …`). A false match only wakes
// the relay for nothing.
const OUTBOX_INSERT = /\binsert\s+into\s+(?:"?[\w$]+"?\s*\.\s*)?"?outbox"?[\s(]/i;

interface ConnectionState {
  inTransaction: boolean;
  wroteOutbox: boolean;
}

class OutboxSignallingDriver extends PostgresDriver {
  readonly #signal: OutboxCommitSignal;
  readonly #state = new WeakMap<DatabaseConnection, ConnectionState>();

  constructor(config: PostgresDialectConfig, signal: OutboxCommitSignal) {
    super(config);
    this.#signal = signal;
  }

  override async acquireConnection(
    options?: Parameters<Driver['acquireConnection']>[0],
  ): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection(options);
    if (!this.#state.has(connection)) {
      const state: ConnectionState = { inTransaction: false, wroteOutbox: false };
      this.#state.set(connection, state);
      // The driver reuses one connection object per pg client, so it is wrapped once (as Kysely's own
      // query logging does).
      const executeQuery = connection.executeQuery;
      connection.executeQuery = async (compiledQuery, queryOptions) => {
        const result = await executeQuery.call(connection, compiledQuery, queryOptions);
        if (OUTBOX_INSERT.test(compiledQuery.sql)) {
          if (state.inTransaction) state.wroteOutbox = true;
          else this.#signal.emit();
        }
        return result as never;
      };
    }
    return connection;
  }

  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    await super.beginTransaction(connection, settings);
    this.#reset(connection, true);
  }

  override async commitTransaction(connection: DatabaseConnection) {
    const state = this.#state.get(connection);
    const wrote = state?.wroteOutbox === true;
    this.#reset(connection, false);
    await super.commitTransaction(connection);
    if (wrote) this.#signal.emit();
  }

  override async rollbackTransaction(connection: Parameters<PostgresDriver['rollbackTransaction']>[0]) {
    this.#reset(connection, false);
    await super.rollbackTransaction(connection);
  }

  #reset(connection: DatabaseConnection, inTransaction: boolean) {
    const state = this.#state.get(connection);
    if (state) {
      state.inTransaction = inTransaction;
      state.wroteOutbox = false;
    }
  }
}

/** The Postgres dialect, with commits of outbox rows reported to `signal`. */
export class OutboxSignallingDialect extends PostgresDialect {
  readonly #config: PostgresDialectConfig;
  readonly #signal: OutboxCommitSignal;

  constructor(config: PostgresDialectConfig, signal: OutboxCommitSignal) {
    super(config);
    this.#config = config;
    this.#signal = signal;
  }

  override createDriver(): Driver {
    return new OutboxSignallingDriver(this.#config, this.#signal);
  }
}
