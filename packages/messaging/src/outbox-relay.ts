import { INDEX_PLANNED_SETTINGS, quoteIdent } from '@citydeals/db';
import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import { type BatchItem, JetStreamBatchPublisher } from './jetstream-batch-publisher.ts';
import type { Logger } from './logger.ts';
import type { Namespace } from './namespace.ts';
import { tracingOn } from './trace-context.ts';
import { publishSpans } from './trace-publish.ts';
import { WakeableSleep } from './wakeable-sleep.ts';

export interface OutboxRelayOptions {
  pool: pg.Pool;
  schema: string;
  nc: NatsConnection;
  namespace: Namespace;
  logger: Logger;
  batchSize?: number;
  /**
   * How often the leader looks for rows nobody woke it for: commits in another replica's process (its own
   * process calls `wake()`). The look is one index scan of the unpublished rows.
   */
  pollIntervalMs?: number;
  /** How often a standby replica asks whether the leader is gone. */
  standbyRetryMs?: number;
  publishTimeoutMs?: number;
  /**
   * A wake-up this soon after the previous round began waits for the rest of the interval, so a stream of
   * commits goes out in rounds of many rows. Each round costs a fetch and a NATS write whatever its size, and
   * under a registration load the relay ran one per commit: two expensive system calls on a busy core (see
   * docs/performance.md). A commit after a quiet spell goes out at once.
   */
  roundIntervalMs?: number;
}

export interface RelayStats {
  published: number;
  publishFailures: number;
  leader: boolean;
  /** Drains begun: a fetch, and a publish of what it found. */
  rounds: number;
}

/** How long published rows wait to be marked by the next fetch before they are marked on their own. */
const MARK_WITH_NEXT_FETCH_MS = 10;

interface OutboxRow {
  id: number;
  event_id: string;
  subject: string;
  payload: string;
  traceparent: string | null;
  request_id: string | null;
}

/**
 * Publishes committed outbox rows to JetStream, in id order, and marks them published.
 *
 * - Never skips a late commit: it selects every *unpublished* row rather than advancing a cursor past
 *   ids whose transactions were still open, so a row that commits after a higher id is picked up the
 *   next round.
 * - One leader per schema: a session-level advisory lock, held on the relay's own connection, makes
 *   every other replica a standby. The lock dies with the connection, so a crashed leader is replaced.
 * - At-least-once: a crash between publish and mark re-publishes the rows with the same `Nats-Msg-Id`;
 *   JetStream drops them inside its duplicate window and consumers' inboxes drop them after it.
 * - Woken, not notified: messaging's write path (outbox.ts) raises `outboxWritten` after each commit that
 *   wrote events, and its own process calls `wake()` on it (`Database.onCommit`); commits of other replicas
 *   are found by the poll. There is no NOTIFY,
 *   whose commit-time lock would serialise every writer's commits.
 */
export class OutboxRelay {
  readonly stats: RelayStats = { published: 0, publishFailures: 0, leader: false, rounds: 0 };
  readonly #o: Required<OutboxRelayOptions>;
  readonly #sleep = new WakeableSleep();
  #stopping = false;
  #running: Promise<void> | undefined;
  #lastRoundAt = Number.NEGATIVE_INFINITY;
  readonly #table: string;
  readonly #publisher: JetStreamBatchPublisher;
  /**
   * Published rows not yet marked: they are marked by the statement of the next fetch (one round trip
   * instead of two per wake-up), at the latest at the next poll, and before the relay lets go of its
   * connection. Lost in a crash, they are published again with the same Nats-Msg-Id, as any unmarked row.
   */
  #unmarked: number[] = [];

  constructor(options: OutboxRelayOptions) {
    this.#o = {
      batchSize: 500,
      pollIntervalMs: 100,
      standbyRetryMs: 2_000,
      publishTimeoutMs: 5_000,
      roundIntervalMs: 5,
      ...options,
    };
    this.#table = `${quoteIdent(options.schema)}.outbox`;
    this.#publisher = new JetStreamBatchPublisher(options.nc);
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Finishes the batch in flight, releases leadership and returns. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#sleep.wake();
    await this.#running;
    this.#publisher.close();
  }

  /** Called after a commit that wrote outbox rows, so they go out now rather than at the next poll. */
  wake(): void {
    // A standby has nothing to publish; waking it would only ask for the lock once per commit.
    if (this.stats.leader) this.#sleep.wake();
  }

  async #run(): Promise<void> {
    const { pool, schema, logger } = this.#o;
    while (!this.#stopping) {
      let client: pg.PoolClient | undefined;
      let broken = false;
      try {
        client = await pool.connect();
        client.on('error', (err) => {
          broken = true;
          logger.warn({ err, schema }, 'outbox relay connection lost');
          this.#sleep.wake();
        });
        // Marks need no flush to disk: a mark lost in a database crash only re-publishes those rows, with
        // the same Nats-Msg-Id, exactly as a relay crash between publish and mark does.
        await client.query('set synchronous_commit = off');
        // The fetch must walk the unpublished index from the cursor and stop at the batch size. Planned on
        // statistics from before a burst (the outbox fills faster than autovacuum analyses it), Postgres read
        // every unpublished row and sorted them instead, at a cost that grows with the backlog and was most
        // of a drain's time. This connection runs only the relay's own statements, all by index or id, so it
        // plans as the queue workers' pool does.
        await client.query('select set_config(key, value, false) from json_each_text($1)', [
          JSON.stringify(INDEX_PLANNED_SETTINGS),
        ]);
        while (!this.#stopping && !broken) {
          if (!this.stats.leader) {
            this.stats.leader = await this.#tryLead(client);
            if (!this.stats.leader) {
              await this.#sleep.sleep(this.#o.standbyRetryMs);
              continue;
            }
            logger.info({ schema }, 'outbox relay is the leader for this schema');
          }
          const early = this.#lastRoundAt + this.#o.roundIntervalMs - performance.now();
          if (early > 0) await new Promise((resolve) => setTimeout(resolve, early));
          this.#lastRoundAt = performance.now();
          this.stats.rounds += 1;
          await this.#drain(client);
          // Under steady traffic the next commit comes within a few ms and its fetch carries the marks;
          // otherwise they are written on their own, so a quiet outbox does not look unpublished.
          if (this.#unmarked.length > 0 && !(await this.#sleep.sleep(MARK_WITH_NEXT_FETCH_MS))) {
            await this.#markUnmarked(client);
          }
          if (this.#unmarked.length > 0) continue;
          await this.#sleep.sleep(this.#o.pollIntervalMs);
        }
      } catch (err) {
        if (!this.#stopping) logger.error({ err, schema }, 'outbox relay failed; retrying');
        if (!this.#stopping) await this.#sleep.sleep(1_000);
      } finally {
        if (client && !broken) await this.#markUnmarked(client).catch(() => {});
        this.#unmarked = [];
        this.stats.leader = false;
        // Destroying the connection also ends the session's advisory lock.
        client?.release(true);
      }
    }
  }

  async #tryLead(client: pg.PoolClient): Promise<boolean> {
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtext($1)) as ok', [
      `outbox-relay:${this.#o.schema}`,
    ]);
    return rows[0]?.ok === true;
  }

  /**
   * Publishes everything unpublished, in id order. While a batch is in flight to JetStream, the next one
   * is read, so Postgres round trips overlap with publishing instead of adding to it; each fetch marks what
   * was published before it. A row that commits late with a lower id than one already passed is picked up
   * by the next drain, which starts from the beginning again.
   */
  async #drain(client: pg.PoolClient): Promise<void> {
    let rows = await this.#fetch(client, 0);
    while (rows.length > 0) {
      const publishing = this.#publishInOrder(rows);
      const more = rows.length === this.#o.batchSize && !this.#stopping;
      const next = more ? this.#fetch(client, rows.at(-1)!.id) : Promise.resolve([]);
      // Awaited below; a rejection meanwhile must not count as unhandled.
      next.catch(() => {});
      const publishedIds = await publishing;
      this.#unmarked.push(...publishedIds);
      this.stats.published += publishedIds.length;
      if (publishedIds.length < rows.length) {
        await next.catch(() => []);
        throw new Error(
          `published ${publishedIds.length} of ${rows.length} outbox rows; will retry the rest`,
        );
      }
      rows = await next;
    }
  }

  async #markUnmarked(client: pg.PoolClient): Promise<void> {
    if (!this.#unmarked.length) return;
    const ids = this.#unmarked;
    this.#unmarked = [];
    await client.query(`update ${this.#table} set published_at = now() where id = any($1::bigint[])`, [ids]);
  }

  /**
   * The next batch after `afterId`, marking the rows published since the last fetch in the same statement.
   * The select reads the snapshot from before that update, hence the rows being marked are excluded by id.
   * If the statement fails, the rows stay unmarked and are published again (same Nats-Msg-Id) next drain.
   */
  async #fetch(client: pg.PoolClient, afterId: number): Promise<OutboxRow[]> {
    const marking = this.#unmarked;
    this.#unmarked = [];
    // Prepared on this connection, which runs nothing but this relay's statements: parsed and planned once.
    const { rows } = await client.query<OutboxRow>({
      name: 'outbox-relay-fetch',
      // The marks join the ids by primary key: with `id = any($3)`, the plan prepared for any array scanned
      // the whole outbox for them, a cost that grows with the outbox.
      text: `with marked as (update ${this.#table} o set published_at = now()
         from unnest($3::bigint[]) as m(id) where o.id = m.id)
       select id, event_id, subject, payload::text as payload, traceparent, request_id from ${this.#table}
       where published_at is null and id > $1 and id <> all($3::bigint[]) order by id limit $2`,
      values: [afterId, this.#o.batchSize, marking],
    });
    return rows;
  }

  /**
   * Sends the whole batch before awaiting any acknowledgement (one connection keeps them in order), and
   * returns the ids of the longest prefix JetStream acknowledged, so a failure never lets a later row be
   * marked while an earlier one is not.
   */
  async #publishInOrder(rows: OutboxRow[]): Promise<number[]> {
    const { namespace, publishTimeoutMs } = this.#o;
    const items: BatchItem[] = rows.map((row) => ({
      subject: namespace.subject(row.subject),
      payload: row.payload,
      msgId: row.event_id,
    }));
    const traced = tracingOn() ? publishSpans(rows, items) : undefined;
    const outcomes = await this.#publisher.publishAll(items, publishTimeoutMs);
    traced?.end(outcomes);
    const ids: number[] = [];
    for (const [i, err] of outcomes.entries()) {
      if (err) {
        this.stats.publishFailures += 1;
        this.#o.logger.warn({ err, eventId: rows[i]?.event_id }, 'publishing an outbox row failed');
        break;
      }
      ids.push(rows[i]!.id);
    }
    return ids;
  }
}
