import { INDEX_PLANNED_SETTINGS, quoteIdent } from '@citydeals/db';
import type pg from 'pg';
import type { Logger } from './logger.ts';
import { type MessagingRetention, messagingCutoffs } from './retention.rules.ts';

/**
 * One kind of row to prune. `sql` changes at most `$2` rows older than the cut-off `$1` and is its own
 * short transaction: it finds them through an index, skips rows someone else holds (`for update skip
 * locked`), and deletes or updates them by `ctid`.
 */
export interface PruneTask {
  name: string;
  sql: string;
  cutoff: Date;
}

export interface RetentionJobOptions {
  pool: pg.Pool;
  /** Names the advisory lock: one replica per key prunes at a time. */
  lockKey: string;
  /** The tasks of one round, with cut-offs from the retention rules for `now`. */
  tasks: (now: Date) => PruneTask[];
  clock: { now(): Date };
  logger: Logger;
  intervalMs: number;
  batchSize: number;
  /** A pause between batches, so a long backlog leaves the database to the hot paths in between. */
  pauseMs?: number;
}

export interface RetentionRound {
  /** False when another replica held the lock: this one pruned nothing. */
  ran: boolean;
  /** Rows changed per task. */
  changed: Record<string, number>;
}

/**
 * Prunes in small batches, on one replica at a time. Each round runs on a connection of its own that holds
 * a session advisory lock (another replica's round finds it taken and skips), plans by index whatever the
 * statistics say, and gives up on any lock it would wait for longer than a second. Every batch commits on
 * its own, so no transaction of the pruner ever holds many rows or lasts long, and rows being written by
 * the hot paths are skipped rather than waited for.
 */
export class RetentionJob {
  readonly name: string;
  readonly totals: Record<string, number> = {};
  readonly #o: RetentionJobOptions;
  #stopping = false;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<unknown> = Promise.resolve();

  constructor(options: RetentionJobOptions) {
    this.#o = options;
    this.name = `retention:${options.lockKey}`;
  }

  start(): void {
    this.#stopping = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    await this.#round;
  }

  #schedule(): void {
    if (this.#stopping) return;
    this.#timer = setTimeout(() => {
      this.#round = this.runOnce()
        .catch((err) =>
          this.#o.logger.warn({ err, job: this.name }, 'retention round failed; next round retries'),
        )
        .finally(() => this.#schedule());
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  async runOnce(): Promise<RetentionRound> {
    const { pool, lockKey, batchSize, clock } = this.#o;
    const client = await pool.connect();
    try {
      const { rows } = await client.query<{ ok: boolean }>(
        'select pg_try_advisory_lock(hashtext($1)) as ok',
        [lockKey],
      );
      if (!rows[0]?.ok) return { ran: false, changed: {} };
      await client.query(
        `select set_config(key, value, false) from json_each_text($1)
         union all select set_config('lock_timeout', '1s', false)`,
        [JSON.stringify(INDEX_PLANNED_SETTINGS)],
      );
      const changed: Record<string, number> = {};
      for (const task of this.#o.tasks(clock.now())) {
        let total = 0;
        while (!this.#stopping) {
          const result = await client.query(task.sql, [task.cutoff, batchSize]);
          const n = result.rowCount ?? 0;
          total += n;
          if (n < batchSize) break;
          if (this.#o.pauseMs) await new Promise((resolve) => setTimeout(resolve, this.#o.pauseMs));
        }
        changed[task.name] = total;
        this.totals[task.name] = (this.totals[task.name] ?? 0) + total;
      }
      if (Object.values(changed).some((n) => n > 0)) {
        this.#o.logger.info({ job: this.name, changed }, 'retention round pruned rows');
      }
      return { ran: true, changed };
    } finally {
      // The session's settings and its advisory lock end with the connection.
      client.release(true);
    }
  }
}

/**
 * `delete` by ctid of at most `$2` rows that `select` finds, skipping rows locked by someone else. The inner
 * query must select `ctid` and be supported by an index in the order it reads.
 */
export function deleteBatch(table: string, select: string): string {
  return `delete from ${table} where ctid = any(array(${select} limit $2 for update skip locked))`;
}

/** The messaging tables' tasks: published outbox rows, old inbox rows, resolved dead letters. */
export function messagingPruneTasks(schema: string, policy: MessagingRetention, now: Date): PruneTask[] {
  const cutoffs = messagingCutoffs(policy, now);
  const t = (name: string) => `${quoteIdent(schema)}.${name}`;
  return [
    {
      name: 'outbox',
      // The oldest rows by id are the first published; rows still unpublished are never taken.
      sql: deleteBatch(t('outbox'), `select ctid from ${t('outbox')} where published_at < $1 order by id`),
      cutoff: cutoffs.outboxPublished,
    },
    {
      name: 'inbox',
      sql: deleteBatch(
        t('inbox'),
        `select ctid from ${t('inbox')} where processed_at < $1 order by processed_at`,
      ),
      cutoff: cutoffs.inbox,
    },
    {
      name: 'dead_letter',
      sql: deleteBatch(
        t('dead_letter'),
        `select ctid from ${t('dead_letter')} where resolved_at < $1 order by resolved_at`,
      ),
      cutoff: cutoffs.deadLetterResolved,
    },
  ];
}
