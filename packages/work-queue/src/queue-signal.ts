import { quoteIdent } from '@citydeals/db';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import { shouldNotify, trailingWakeAt } from './queue-signal.rules.ts';

/** What a queue worker is woken by: the one signal it is given, whatever feeds it. */
export interface WakeUpSignal {
  /** Calls `listener` at every wake-up; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/**
 * The LISTEN/NOTIFY channel of one queue, after the schema's name (`<schema><suffix>`, so several
 * installations may share a server). It holds no state: a producer that queues rows outside the code that
 * owns the queue's `QueueSignal` wakes every replica's workers with it (`notify` in its transaction).
 */
export class QueueChannel {
  constructor(readonly suffix: string) {}

  /** The NOTIFY, as a statement of the producer's transaction; heard by every replica after its commit. */
  async notify<DB>(trx: Kysely<DB>): Promise<void> {
    await sql`select ${this.notifyExpression()}`.execute(trx);
  }

  /** The NOTIFY as an expression, for a producer that folds it into a statement it runs anyway. */
  notifyExpression(): RawBuilder<unknown> {
    return sql`pg_notify(current_schema() || ${this.suffix}, '')`;
  }

  /** The channel's name in `schema`. */
  in(schema: string): string {
    return `${schema}${this.suffix}`;
  }
}

export interface QueueSignalOptions {
  channel: QueueChannel;
  /** At most one NOTIFY per this many milliseconds; the transactions in between wake this process only. */
  throttleMs: number;
  now?: () => number;
}

/**
 * Tells the workers of one queue that rows were queued. Fed two ways, both ending in the same wake-up:
 * - in this process, by the code that committed the rows (`flush` after a commit that may have queued,
 *   `committed` when it knows it did);
 * - from every replica, by a NOTIFY that `listen` hears on one connection, reconnecting when it is lost.
 *
 * A producer calls `queued()` inside the transaction that queued rows; it returns true for at most one
 * transaction per `throttleMs`, and only that one NOTIFYs (`notify` or `notifyExpression`). A transaction
 * cannot see its own commit, so for the ones in between this process's workers are woken one interval after
 * the latest of them, when it has normally committed. A wake-up that comes too early, or is missed, only
 * costs latency: the workers' poll still finds the rows.
 */
export class QueueSignal implements WakeUpSignal {
  readonly #listeners = new Set<() => void>();
  readonly #channel: QueueChannel;
  readonly #throttleMs: number;
  readonly #now: () => number;
  #lastNotifiedAt: number | undefined;
  #lastSkippedAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #queuedSinceFlush = false;

  constructor(options: QueueSignalOptions) {
    this.#channel = options.channel;
    this.#throttleMs = options.throttleMs;
    this.#now = options.now ?? Date.now;
  }

  /** Called inside a transaction that queued rows; true if that transaction should NOTIFY. */
  queued(): boolean {
    this.#queuedSinceFlush = true;
    const now = this.#now();
    if (shouldNotify(this.#lastNotifiedAt, now, this.#throttleMs)) {
      this.#lastNotifiedAt = now;
      return true;
    }
    this.#lastSkippedAt = now;
    this.#arm();
    return false;
  }

  /** The NOTIFY, as a statement of the producer's transaction; heard by every replica after its commit. */
  notify<DB>(trx: Kysely<DB>): Promise<void> {
    return this.#channel.notify(trx);
  }

  /** The NOTIFY as an expression, for a producer that folds it into a statement it runs anyway. */
  notifyExpression(): RawBuilder<unknown> {
    return this.#channel.notifyExpression();
  }

  /** Rows were committed (by this process, or a NOTIFY arrived): wake the workers now. */
  committed(): void {
    for (const listener of this.#listeners) listener();
  }

  /**
   * A transaction that may have called `queued()` has just committed: wake the workers now if anything was
   * queued since the last flush. With two transactions in flight, the first commit's flush covers both; the
   * second one's rows are then found by the trailing wake-up.
   */
  flush(): void {
    if (!this.#queuedSinceFlush) return;
    this.#queuedSinceFlush = false;
    this.committed();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The LISTEN/NOTIFY channel of this queue in `schema`. */
  channelIn(schema: string): string {
    return this.#channel.in(schema);
  }

  /**
   * Holds one connection of `pool` that LISTENs on this signal's channel in `schema`, and wakes the workers
   * at every NOTIFY. Lost, it is opened again after `retryMs`; only latency depends on it. Returns the
   * function that closes it.
   */
  listen(pool: pg.Pool, options: { schema: string; retryMs: number; logger: Logger }): () => void {
    const channel = quoteIdent(this.channelIn(options.schema));
    let client: pg.PoolClient | undefined;
    let stopped = false;
    const retry = () => {
      if (!stopped) setTimeout(connect, options.retryMs).unref();
    };
    const connect = async () => {
      if (stopped) return;
      try {
        const connected = await pool.connect();
        if (stopped) {
          connected.release(true);
          return;
        }
        client = connected;
        connected.on('notification', () => this.committed());
        connected.on('error', (err) => {
          if (client !== connected) return;
          options.logger.warn({ err, channel }, 'LISTEN connection lost; polling until it is back');
          client = undefined;
          connected.release(true);
          retry();
        });
        await connected.query(`listen ${channel}`);
        // A NOTIFY sent while no connection listened was lost: look once now.
        this.committed();
      } catch (err) {
        if (stopped) return;
        options.logger.warn({ err, channel }, 'LISTEN failed; polling until it works');
        if (client) {
          client.release(true);
          client = undefined;
        }
        retry();
      }
    };
    void connect();
    return () => {
      stopped = true;
      client?.release(true);
      client = undefined;
    };
  }

  #arm(): void {
    if (this.#timer) return;
    const due = trailingWakeAt(this.#lastSkippedAt, this.#throttleMs);
    if (due === undefined) return;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, due - this.#now()));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    const due = trailingWakeAt(this.#lastSkippedAt, this.#throttleMs);
    // A transaction skipped its NOTIFY since the timer was set: wait one interval after that one instead.
    if (due !== undefined && due > this.#now()) {
      this.#arm();
      return;
    }
    this.#lastSkippedAt = undefined;
    this.committed();
  }
}
