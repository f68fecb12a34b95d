import {
  type DatabaseConnection,
  type Driver,
  PostgresDialect,
  type PostgresDialectConfig,
  PostgresDriver,
  type QueryExecutorProvider,
  type TransactionSettings,
} from 'kysely';

/**
 * Named signals raised in this process once a transaction that asked for them has committed: a writer
 * calls `signalAfterCommit(trx, name)`, and the listeners of `name` on the same Database run after the
 * commit, never if it rolls back. Messaging wakes its outbox relay this way from its own write path, so the
 * relay starts at once instead of at its next poll (a NOTIFY trigger did this before: `pg_notify` takes a
 * database-wide lock at commit, which serialised every writer's commits).
 *
 * Only a hint for in-process listeners: a commit in another process raises nothing here.
 */
export class CommitSignals {
  readonly #listeners = new Map<string, Set<() => void>>();

  /** Calls `listener` after each commit that raised `name`; returns the unsubscribe. */
  subscribe(name: string, listener: () => void): () => void {
    let listeners = this.#listeners.get(name);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(name, listeners);
    }
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  emit(name: string): void {
    for (const listener of this.#listeners.get(name) ?? []) {
      try {
        listener();
      } catch {
        // A listener's failure must not turn a successful commit into an error for the writer.
      }
    }
  }
}

/** What a connection of a signalling driver remembers between its transaction's statements. */
class ConnectionSignals {
  #inTransaction = false;
  readonly #pending = new Set<string>();
  #callbacks: (() => void)[] = [];

  constructor(readonly signals: CommitSignals) {}

  raise(name: string): void {
    if (this.#inTransaction) this.#pending.add(name);
    else this.signals.emit(name);
  }

  /** `callback` after this connection's transaction commits (now, outside one); dropped on rollback. */
  onCommit(callback: () => void): void {
    if (this.#inTransaction) this.#callbacks.push(callback);
    else callback();
  }

  begin(): void {
    this.#inTransaction = true;
    this.#pending.clear();
    this.#callbacks = [];
  }

  /** Ends the transaction; returns the names raised in it and the callbacks registered in it. */
  end(): { raised: string[]; callbacks: (() => void)[] } {
    const raised = [...this.#pending];
    const callbacks = this.#callbacks;
    this.#inTransaction = false;
    this.#pending.clear();
    this.#callbacks = [];
    return { raised, callbacks };
  }
}

const connectionSignals = Symbol('commit signals');

function signalsOf(connection: DatabaseConnection): ConnectionSignals | undefined {
  if (!(connectionSignals in connection)) return undefined;
  const signals = connection[connectionSignals];
  return signals instanceof ConnectionSignals ? signals : undefined;
}

/**
 * Raises `name` once the transaction `db` belongs to commits. With a Kysely that is not in a transaction,
 * whatever it ran has committed already and the listeners run now. A database not made by `createDatabase`
 * has no listeners: nothing happens.
 */
export async function signalAfterCommit(db: QueryExecutorProvider, name: string): Promise<void> {
  await db.getExecutor().provideConnection(async (connection) => signalsOf(connection)?.raise(name));
}

/**
 * Runs `callback` in this process once the transaction `db` belongs to has committed, never if it rolls
 * back (nor if the commit fails): for handing what a transaction made durable to in-process work that must
 * not start before it is. With a Kysely that is not in a transaction it runs now. A database not made by
 * `createDatabase` cannot tell: the callback is not run, so callers must not depend on it for correctness.
 */
export async function runAfterCommit(db: QueryExecutorProvider, callback: () => void): Promise<void> {
  await db.getExecutor().provideConnection(async (connection) => signalsOf(connection)?.onCommit(callback));
}

class SignallingDriver extends PostgresDriver {
  readonly #signals: CommitSignals;

  constructor(config: PostgresDialectConfig, signals: CommitSignals) {
    super(config);
    this.#signals = signals;
  }

  override async acquireConnection(
    options?: Parameters<Driver['acquireConnection']>[0],
  ): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection(options);
    // The driver reuses one connection object per pg client, so each gets its state once.
    if (!(connectionSignals in connection)) {
      Object.defineProperty(connection, connectionSignals, { value: new ConnectionSignals(this.#signals) });
    }
    return connection;
  }

  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    await super.beginTransaction(connection, settings);
    signalsOf(connection)?.begin();
  }

  override async commitTransaction(connection: DatabaseConnection) {
    const { raised, callbacks } = signalsOf(connection)?.end() ?? { raised: [], callbacks: [] };
    await super.commitTransaction(connection);
    for (const name of raised) this.#signals.emit(name);
    for (const callback of callbacks) {
      try {
        callback();
      } catch {
        // As with a listener: the commit succeeded, and the writer must not see an error for it.
      }
    }
  }

  override async rollbackTransaction(connection: Parameters<PostgresDriver['rollbackTransaction']>[0]) {
    signalsOf(connection)?.end();
    await super.rollbackTransaction(connection);
  }
}

/** The Postgres dialect, with commit signals (see CommitSignals). */
export class SignallingDialect extends PostgresDialect {
  readonly #config: PostgresDialectConfig;
  readonly #signals: CommitSignals;

  constructor(config: PostgresDialectConfig, signals: CommitSignals) {
    super(config);
    this.#config = config;
    this.#signals = signals;
  }

  override createDriver(): Driver {
    return new SignallingDriver(this.#config, this.#signals);
  }
}
