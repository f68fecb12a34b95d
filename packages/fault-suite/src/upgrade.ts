import {
  dealUpdated,
  defineEvent,
  type EventDefinition,
  findEventByType,
  languageSchema,
  streams,
} from '@citydeals/contracts';
import { createDatabase, type Database, type Migrations, migrateSchema } from '@citydeals/db';
import {
  ConsumerRunner,
  connectNats,
  defineConsumer,
  enqueueEvent,
  ensureStream,
  type Logger,
  type MessagingTables,
  messagingMigrations,
  type Namespace,
  namespace,
  OutboxRelay,
  on,
  outboxWritten,
} from '@citydeals/messaging';
import {
  createTestDatabase,
  deleteNamespaceStreams,
  eventually,
  testServers,
  uniqueName,
} from '@citydeals/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type Kysely, sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';

/**
 * A second version of `deal_tracking.deal.updated`, for the rolling-upgrade scenario only: the deal nests
 * under `deal` and the summary names its language. A breaking change on purpose — read as v1 it has no
 * `dealId` — registered the way a real v2 would be: same subject, `version: 2`, so its type ends in `.v2`.
 */
export const dealUpdatedV2 = defineEvent({
  subject: 'deal_tracking.deal.updated',
  version: 2,
  description:
    'Test-only v2 of deal_tracking.deal.updated: the deal under `deal`, the summary with its language.',
  data: z.object({ deal: dealUpdated.data, summaryLanguage: languageSchema }),
  example: { deal: dealUpdated.example, summaryLanguage: 'nl' },
});

export type ContractVersion = 1 | 2;
const definitionOf: Record<ContractVersion, EventDefinition> = { 1: dealUpdated, 2: dealUpdatedV2 };

const producerSchema = 'upgrade_producer';
const consumerSchema = 'upgrade_consumer';
const consumerName = 'upgrade-deal-changes';

interface ProducerDB extends MessagingTables {
  change: { deal_id: string; summary: string; written_as: number; written_by: string };
}
interface ConsumerDB extends MessagingTables {
  applied: {
    event_id: string;
    deal_id: string;
    summary: string;
    read_as: number;
    read_by: string;
  };
}

// No unique key on either table on purpose: a second application of one event must show as a second row.
const changeMigrations = {
  '0001_change': {
    async up(db: Kysely<any>) {
      await sql`create table change (
        id bigint generated always as identity primary key,
        deal_id uuid not null,
        summary text not null,
        written_as integer not null,
        written_by text not null,
        written_at timestamptz not null default clock_timestamp()
      )`.execute(db);
    },
  },
};
const appliedMigrations = {
  '0001_applied': {
    async up(db: Kysely<any>) {
      await sql`create table applied (
        id bigint generated always as identity primary key,
        event_id uuid not null,
        deal_id uuid not null,
        summary text not null,
        read_as integer not null,
        read_by text not null
      )`.execute(db);
    },
  },
};

/** Keeps what the messaging parts log at warn and above, for failure messages. */
function recordingLogger(label: string, lines: string[]): Logger {
  const keep = (level: string) => (obj: object, msg?: string) => {
    lines.push(
      `${label} ${level}: ${msg ?? ''} ${JSON.stringify(obj, (_k, v) => (v instanceof Error ? v.message : v))}`,
    );
  };
  return { debug: () => {}, info: () => {}, warn: keep('warn'), error: keep('error') };
}

interface Replica {
  readonly label: string;
  stop(): Promise<void>;
}

/**
 * A producer and a consumer of deal changes, each as replicas of an old (v1) or a new (v2) build, on a
 * database and event namespace of their own (real Postgres, the machine's JetStream). Every replica has its
 * own pool and NATS connection, as a separate process would; replicas of one side share the schema, the
 * outbox relay's leadership (producers) and the durable consumer (consumers).
 */
export class UpgradeWorld {
  readonly ns: Namespace;
  readonly log: string[] = [];
  readonly #replicas = new Set<Replica>();
  #probe!: Database<ConsumerDB & ProducerDB>;

  private constructor(
    readonly databaseUrl: string,
    readonly dropDatabase: () => Promise<void>,
  ) {
    this.ns = namespace(uniqueName('up'));
  }

  static async start(): Promise<UpgradeWorld> {
    const database = await createTestDatabase('cd_upgrade');
    const world = new UpgradeWorld(database.url, database.drop);
    world.#probe = createDatabase({ connectionString: database.url, schema: 'public', maxConnections: 2 });
    return world;
  }

  /** A producer replica writing deal changes as events of `version`, one after another. */
  async producer(
    label: string,
    version: ContractVersion,
  ): Promise<Replica & { stopWriting(): Promise<void> }> {
    // As a service's runtime does before its relay starts: publishing needs the stream.
    const { database, nc } = await this.#connect<ProducerDB>(label, producerSchema, changeMigrations);
    const relay = new OutboxRelay({
      pool: database.pool,
      schema: producerSchema,
      nc,
      namespace: this.ns,
      logger: recordingLogger(label, this.log),
      pollIntervalMs: 50,
      standbyRetryMs: 200,
    });
    database.onCommit(outboxWritten, () => relay.wake());
    relay.start();
    let stopped = false;
    const writes = (async () => {
      while (!stopped) {
        try {
          await writeChange(database.db, version, label);
        } catch (err) {
          this.log.push(`${label} write failed: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    return this.#track({
      label,
      /** No more writes; the relay stays (a row committed as the last relay stops waits for the next one). */
      async stopWriting() {
        stopped = true;
        await writes;
      },
      async stop() {
        stopped = true;
        await writes;
        await relay.stop();
        await nc.drain().catch(() => {});
        await database.destroy();
      },
    });
  }

  /**
   * A consumer replica reading the contract versions in `reads`: an old build reads v1 and knows no v2 (the
   * production catalog); a new one also knows and reads v2; one with v1 retired reads only v2.
   */
  async consumer(
    label: string,
    reads: readonly ContractVersion[],
  ): Promise<Replica & { runner: ConsumerRunner<ConsumerDB> }> {
    const { database, nc, jsm } = await this.#connect<ConsumerDB>(label, consumerSchema, appliedMigrations);
    const js = jetstream(nc);
    const stream = streams.deal_tracking;
    const apply = (version: ContractVersion) =>
      on<ConsumerDB, EventDefinition>(definitionOf[version], async (trx, event) => {
        const data = event.data as
          | { summary: string; dealId: string }
          | { deal: { summary: string; dealId: string } };
        const deal = 'deal' in data ? data.deal : data;
        await trx
          .insertInto('applied')
          .values({
            event_id: event.id,
            deal_id: deal.dealId,
            summary: deal.summary,
            read_as: version,
            read_by: label,
          })
          .execute();
      });
    const knowsV2 = reads.includes(2);
    const runner = new ConsumerRunner<ConsumerDB>({
      db: database.db,
      js,
      jsm,
      namespace: this.ns,
      logger: recordingLogger(label, this.log),
      definition: defineConsumer<ConsumerDB>({
        name: consumerName,
        stream,
        filterSubject: 'deal_tracking.deal.updated',
        handlers: reads.map(apply),
      }),
      // What the build's contracts package knows: the production catalog, plus v2 in a new build.
      lookupType: (type) => (knowsV2 && type === dealUpdatedV2.type ? dealUpdatedV2 : findEventByType(type)),
      retry: { initialDelayMs: 100, maxDelayMs: 500, maxDeliveries: 5 },
    });
    await runner.start();
    return this.#track({
      label,
      runner,
      async stop() {
        await runner.stop();
        await nc.drain().catch(() => {});
        await database.destroy();
      },
    });
  }

  /** A replica's own pool (its schema migrated) and NATS connection, the stream ensured. */
  async #connect<DB>(label: string, schema: string, migrations: Migrations) {
    const database = createDatabase<DB>({
      connectionString: this.databaseUrl,
      schema,
      maxConnections: 3,
      applicationName: label,
    });
    await migrateSchema(database.db, schema, { ...messagingMigrations(schema), ...migrations });
    const nc = await connectNats({ url: testServers.natsUrl, name: label });
    const jsm = await jetstreamManager(nc);
    const stream = streams.deal_tracking;
    await ensureStream(jsm, { name: this.ns.streamName(stream), subjects: this.ns.streamSubjects(stream) });
    return { database, nc, jsm };
  }

  #track<R extends Replica>(replica: R): R {
    this.#replicas.add(replica);
    const stop = replica.stop.bind(replica);
    replica.stop = async () => {
      if (!this.#replicas.delete(replica)) return;
      await stop();
    };
    return replica;
  }

  async written(): Promise<number> {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from upgrade_producer.change`.execute(
      this.#probe.db,
    );
    return rows[0]!.n;
  }

  /** Waits until `n` more changes are written. */
  async progress(n: number, timeoutMs = 120_000): Promise<void> {
    const target = (await this.written()) + n;
    const ok = await eventually(async () => (await this.written()) >= target, timeoutMs, 100);
    if (!ok)
      throw new Error(
        `producers made no progress (${await this.written()}/${target}):\n${this.log.slice(-10).join('\n')}`,
      );
  }

  /** Until every written change is published and the durable consumer has nothing pending or unacked. */
  async settle(timeoutMs = 120_000): Promise<void> {
    const nc = await connectNats({ url: testServers.natsUrl, name: 'upgrade-probe' });
    try {
      const jsm = await jetstreamManager(nc);
      let quietSince = 0;
      let detail = '';
      const ok = await eventually(
        async () => {
          const { rows } = await sql<{ n: number }>`select count(*)::int as n from upgrade_producer.outbox
            where published_at is null`.execute(this.#probe.db);
          const info = await jsm.consumers
            .info(this.ns.streamName(streams.deal_tracking), this.ns.durable(consumerName))
            .catch(() => undefined);
          detail = `unpublished ${rows[0]!.n}, pending ${info?.num_pending}, unacked ${info?.num_ack_pending}`;
          const quiet = rows[0]!.n === 0 && !!info && info.num_pending + info.num_ack_pending === 0;
          if (!quiet) quietSince = 0;
          else quietSince ||= Date.now();
          return quiet && Date.now() - quietSince > 500;
        },
        timeoutMs,
        100,
      );
      if (!ok)
        throw new Error(`not settled after ${timeoutMs} ms (${detail}):\n${this.log.slice(-10).join('\n')}`);
    } finally {
      await nc.close();
    }
  }

  /**
   * Until every change written as `version` has its event applied, while producers of other versions go on
   * writing (settle() needs a quiet moment, which a busy machine never gives a producer that keeps writing).
   */
  async appliedAll(version: ContractVersion, timeoutMs = 120_000): Promise<void> {
    let missing: string[] = [];
    const ok = await eventually(
      async () => {
        missing = (await this.verdict()).missing.filter((m) => m.endsWith(` v${version}`));
        return missing.length === 0;
      },
      timeoutMs,
      200,
    );
    if (!ok)
      throw new Error(
        `${missing.length} v${version} changes not applied after ${timeoutMs} ms:\n${this.log.slice(-10).join('\n')}`,
      );
  }

  /** Every written change against what consumers applied and dead-lettered. */
  async verdict(): Promise<Verdict> {
    const { rows } = await sql<{
      deal_id: string;
      summary: string;
      written_as: number;
      applied: { summary: string; read_as: number; read_by: string }[];
    }>`select c.deal_id, c.summary, c.written_as,
          coalesce(json_agg(json_build_object('summary', a.summary, 'read_as', a.read_as, 'read_by', a.read_by))
            filter (where a.id is not null), '[]') as applied
        from upgrade_producer.change c
        left join upgrade_consumer.applied a on a.deal_id = c.deal_id
        group by c.deal_id, c.summary, c.written_as`.execute(this.#probe.db);
    const dead = await sql<{ event_type: string | null; error: string }>`select event_type, error
      from upgrade_consumer.dead_letter`.execute(this.#probe.db);
    const verdict: Verdict = {
      written: { v1: 0, v2: 0 },
      appliedOnce: 0,
      missing: [],
      doubled: [],
      misread: [],
      deadLettered: dead.rows.map((d) => `${d.event_type}: ${d.error.slice(0, 120)}`),
      readBy: {},
    };
    for (const row of rows) {
      verdict.written[row.written_as === 2 ? 'v2' : 'v1'] += 1;
      const change = `${row.deal_id} v${row.written_as}`;
      if (row.applied.length === 0) verdict.missing.push(change);
      else if (row.applied.length > 1) verdict.doubled.push(change);
      else verdict.appliedOnce += 1;
      for (const a of row.applied) {
        if (a.summary !== row.summary || a.read_as !== row.written_as) {
          verdict.misread.push(
            `${row.deal_id}: written v${row.written_as} "${row.summary}", read v${a.read_as} "${a.summary}"`,
          );
        }
        const key = `${a.read_by} read v${a.read_as}`;
        verdict.readBy[key] = (verdict.readBy[key] ?? 0) + 1;
      }
    }
    return verdict;
  }

  /** When the first change of each version was written and the last one. */
  async writeSpans(): Promise<Record<string, { first: number; last: number }>> {
    const { rows } = await sql<{ written_as: number; first: Date; last: Date }>`select written_as,
        min(written_at) as first, max(written_at) as last from upgrade_producer.change group by written_as`.execute(
      this.#probe.db,
    );
    return Object.fromEntries(rows.map((r) => [`v${r.written_as}`, { first: +r.first, last: +r.last }]));
  }

  async close(): Promise<void> {
    for (const replica of [...this.#replicas]) await replica.stop().catch(() => {});
    const nc = await connectNats({ url: testServers.natsUrl, name: 'upgrade-cleanup' });
    try {
      await deleteNamespaceStreams(await jetstreamManager(nc), this.ns.prefix);
    } finally {
      await nc.close();
    }
    await this.#probe.destroy();
    await this.dropDatabase();
  }
}

export interface Verdict {
  written: { v1: number; v2: number };
  appliedOnce: number;
  /** `<deal id> v<version written>` of changes with no event applied, or with more than one. */
  missing: string[];
  doubled: string[];
  misread: string[];
  deadLettered: string[];
  /** Events applied per consumer replica and contract version. */
  readBy: Record<string, number>;
}

/** One deal change: the row and its event in one transaction, as the deal-tracking service writes them. */
async function writeChange(db: Kysely<ProducerDB>, version: ContractVersion, label: string): Promise<void> {
  const dealId = uuidv7();
  const summary = `change ${uuidv7()}`;
  const v1 = { ...dealUpdated.example, dealId, summary, changedFields: ['summary' as const] };
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('change')
      .values({ deal_id: dealId, summary, written_as: version, written_by: label })
      .execute();
    const input = { id: uuidv7(), time: new Date(), source: 'deal-tracking', subject: dealId };
    if (version === 1) await enqueueEvent(trx, dealUpdated, { ...input, data: v1 });
    else await enqueueEvent(trx, dealUpdatedV2, { ...input, data: { deal: v1, summaryLanguage: 'nl' } });
  });
}
