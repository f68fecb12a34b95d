import { type StreamDefinition, streams } from '@citydeals/contracts';
import {
  createDatabase,
  type IndexPlannedDb,
  type Migrations,
  migrateSchema,
  refuseTransactionPooling,
} from '@citydeals/db';
import {
  type ConsumerDefinition,
  ConsumerLagWatch,
  ConsumerRunner,
  connectNats,
  countOpenDeadLetters,
  ensureStream,
  type MessagingRetention,
  type MessagingTables,
  messagingMigrations,
  messagingPruneTasks,
  messagingRetentionProblems,
  type Namespace,
  type NatsConnection,
  namespace,
  OutboxRelay,
  outboxLag,
  outboxWritten,
  RetentionJob,
  type RetryResult,
  type RetrySchedule,
  retryDeadLetter,
  streamLimits,
} from '@citydeals/messaging';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import { ApiKeyStore, type ApiKeyTables, apiKeyMigrations, type ConfiguredApiKey } from './api-keys.ts';
import type { BaseConfig } from './base-config.ts';
import { ConfigError } from './config.ts';
import { createMetrics, type Metrics, registerCollected } from './metrics.ts';

export type ServiceTables = MessagingTables & ApiKeyTables;

export interface RuntimeOptions {
  /** Service name as in subjects: `registration`, `deal_tracking`, `notification`. */
  service: keyof typeof streams;
  config: BaseConfig;
  logger: Logger;
  migrations: Migrations;
  consumerConcurrency?: number;
  retry?: RetrySchedule;
  relay?: { pollIntervalMs?: number; batchSize?: number };
  /** The keys the environment names (ADMIN_API_KEY, …): the only keys of source `config` after the start. */
  configuredApiKeys?: readonly ConfiguredApiKey[];
}

/** Injected wherever a rule needs the time or a new id, so tests can fix both. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = Object.freeze({ now: () => new Date() });

/**
 * What a service's functions need from outside, injected so tests can fix the clock and the ids. Each service
 * has one context type, in its `src/context.ts`, that extends this one with what its features share.
 */
export interface ServiceContext<DB> {
  readonly db: Kysely<DB>;
  readonly clock: Clock;
  readonly newId: () => string;
}

/**
 * The parts of a running service that the kit's own routes and hooks use, whatever the service's tables:
 * HTTP plugins see the runtime as this (see runtime.plugin.ts).
 */
export interface RuntimeBase {
  readonly service: string;
  readonly logger: Logger;
  /**
   * The same schema and pool as `db`, typed with only the tables the kit and messaging own (outbox, inbox,
   * dead letters, API keys). Kysely cannot narrow a `Kysely<DB>` of a generic DB to the tables DB is known
   * to have, so the kit keeps its own typed handle instead of casting.
   */
  readonly kitDb: Kysely<ServiceTables>;
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly ns: Namespace;
  readonly stream: StreamDefinition;
  readonly relay: OutboxRelay;
  /** Prunes the outbox, inbox and dead letters (one replica at a time). */
  readonly retention: RetentionJob;
  readonly metrics: Metrics;
  readonly apiKeys: ApiKeyStore;
  readiness(): Promise<{ ok: boolean; checks: Record<string, string> }>;
  /** Runs a dead-lettered event through its consumer again (see retryDeadLetter in @citydeals/messaging). */
  retryDeadLetter(id: number): Promise<RetryResult>;
  stopConsumers(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The parts of a running service that are not HTTP: its schema (migrated), its NATS connection and
 * stream, the outbox relay and its consumers. `stop()` takes them down in the safe order.
 */
export interface ServiceRuntime<DB extends ServiceTables> extends RuntimeBase {
  readonly db: Kysely<DB>;
  /** For queue workers' statements on bounded batches (see IndexPlannedDb in @citydeals/db). */
  readonly indexPlannedDb: IndexPlannedDb<DB>;
  readonly consumers: ReadonlyMap<string, ConsumerRunner<DB>>;
  /**
   * Starts the service's consumers, once its context exists (their handlers close over it). Each asks for
   * the stream it reads, as the publishing service may not have started yet.
   */
  startConsumers(definitions: readonly ConsumerDefinition<DB>[]): Promise<void>;
}

export async function startRuntime<DB extends ServiceTables>(
  options: RuntimeOptions,
): Promise<ServiceRuntime<DB>> {
  const { config, logger, service } = options;
  const schema = config.DATABASE_SCHEMA;
  const retention = messagingRetention(config);
  const retentionProblems = messagingRetentionProblems(retention);
  if (retentionProblems.length) throw new ConfigError(retentionProblems);
  const database = createDatabase<DB>({
    connectionString: config.DATABASE_URL,
    schema,
    maxConnections: config.DATABASE_POOL_SIZE,
    applicationName: service,
  });
  const { db, indexPlannedDb, pool, onCommit } = database;
  let nc: NatsConnection | undefined;
  // What has started so far, so a failed start undoes exactly that (a running relay holds a pool client).
  const started: { stop(): Promise<void> }[] = [];
  try {
    await refuseTransactionPooling(pool);
    const applied = await migrateSchema(db, schema, {
      ...messagingMigrations(schema),
      ...apiKeyMigrations,
      ...options.migrations,
    });
    logger.info({ schema, migrations: applied.length }, 'schema migrated');
    // Never destroyed itself: it shares the pool that `database.destroy()` closes.
    const kitDb = new Kysely<ServiceTables>({ dialect: new PostgresDialect({ pool }) });
    const apiKeys = await ApiKeyStore.open(kitDb, {
      pepper: config.API_KEY_PEPPER,
      configured: options.configuredApiKeys ?? [],
      logger,
    });

    nc = await connectNats({
      url: config.NATS_URL,
      user: config.NATS_USER,
      password: config.NATS_PASSWORD,
      name: service,
    });
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const ns = namespace(config.EVENT_NAMESPACE);
    const stream = streams[service];
    const replicas = config.NATS_STREAM_REPLICAS;
    const limits = streamLimits({
      maxAgeMs: config.NATS_STREAM_MAX_AGE_MS,
      maxBytes: config.NATS_STREAM_MAX_BYTES,
    });
    // Publisher and consumers ask for the same config, whichever of them starts first.
    const provisionStream = (definition: StreamDefinition) =>
      ensureStream(
        jsm,
        {
          name: ns.streamName(definition),
          subjects: ns.streamSubjects(definition),
          num_replicas: replicas,
          ...limits,
        },
        { logger },
      );
    await provisionStream(stream);

    const relay = new OutboxRelay({ pool, schema, nc, namespace: ns, logger, ...options.relay });
    onCommit(outboxWritten, () => relay.wake());
    relay.start();
    started.push(relay);

    const runners = new Map<string, ConsumerRunner<DB>>();

    const retentionJob = new RetentionJob({
      pool,
      lockKey: `retention:${schema}:messaging`,
      tasks: (now) => messagingPruneTasks(schema, retention, now),
      clock: systemClock,
      logger,
      intervalMs: config.RETENTION_INTERVAL_MS,
      batchSize: config.RETENTION_BATCH_SIZE,
    });
    retentionJob.start();
    started.push(retentionJob);

    const lagWatch = new ConsumerLagWatch<DB>({
      service,
      db,
      consumers: () => runners.values(),
      isLeader: () => relay.stats.leader,
      policy: { threshold: config.CONSUMER_LAG_THRESHOLD, afterMs: config.CONSUMER_LAG_AFTER_MS },
      intervalMs: config.CONSUMER_LAG_CHECK_MS,
      clock: systemClock,
      logger,
    });

    const metrics = createMetrics(service);
    registerMessagingMetrics(metrics, kitDb, relay, runners);

    const natsConnection = nc;
    let consumersStopped = false;
    const stopConsumers = async () => {
      if (consumersStopped) return;
      consumersStopped = true;
      await Promise.all([...runners.values()].map((r) => r.stop()));
    };
    return {
      service,
      logger,
      db,
      kitDb,
      indexPlannedDb,
      pool,
      schema,
      nc: natsConnection,
      js,
      jsm,
      ns,
      stream,
      relay,
      retention: retentionJob,
      consumers: runners,
      metrics,
      apiKeys,
      async readiness() {
        const checks: Record<string, string> = {};
        checks.postgres = await pool
          .query('select 1')
          .then(() => 'ok')
          .catch((err: Error) => `failing: ${err.message}`);
        checks.nats = natsConnection.isClosed()
          ? 'failing: connection closed'
          : await natsConnection
              .rtt()
              .then(() => 'ok')
              .catch((err: Error) => `failing: ${err.message}`);
        return { ok: Object.values(checks).every((c) => c === 'ok'), checks };
      },
      async startConsumers(definitions) {
        for (const definition of definitions) {
          // The publishing service may not have started yet.
          await provisionStream(definition.stream);
          const runner = new ConsumerRunner<DB>({
            db,
            js,
            jsm,
            namespace: ns,
            logger,
            definition,
            service,
            ...(options.consumerConcurrency ? { concurrency: options.consumerConcurrency } : {}),
            retry: options.retry ?? {
              initialDelayMs: config.CONSUMER_RETRY_INITIAL_MS,
              maxDelayMs: config.CONSUMER_RETRY_MAX_MS,
              maxDeliveries: config.CONSUMER_MAX_DELIVERIES,
            },
          });
          await runner.start();
          runners.set(definition.name, runner);
        }
        // Watches only what runs: started with the consumers, stopped by stop().
        if (config.CONSUMER_LAG_THRESHOLD > 0 && runners.size > 0) lagWatch.start();
      },
      retryDeadLetter: (id) => retryDeadLetter(kitDb, runners, id),
      stopConsumers,
      async stop() {
        await lagWatch.stop();
        await stopConsumers();
        await retentionJob.stop();
        await relay.stop();
        await natsConnection.drain().catch(() => {});
        await database.destroy();
      },
    };
  } catch (err) {
    for (const part of started.reverse()) await part.stop().catch(() => {});
    await nc?.close().catch(() => {});
    await database.destroy();
    throw err;
  }
}

function messagingRetention(config: BaseConfig): MessagingRetention {
  return {
    outboxPublishedMs: config.RETENTION_OUTBOX_PUBLISHED_MS,
    inboxMs: config.RETENTION_INBOX_MS,
    deadLetterResolvedMs: config.RETENTION_DEAD_LETTER_MS,
    streamMaxAgeMs: config.NATS_STREAM_MAX_AGE_MS,
  };
}

function registerMessagingMetrics<DB extends ServiceTables>(
  metrics: Metrics,
  db: Kysely<ServiceTables>,
  relay: OutboxRelay,
  runners: ReadonlyMap<string, ConsumerRunner<DB>>,
) {
  registerCollected(
    metrics.registry,
    { name: 'outbox_unpublished_events', help: 'Committed events not yet in JetStream', type: 'gauge' },
    async () => [{ value: (await outboxLag(db)).unpublished }],
  );
  registerCollected(
    metrics.registry,
    { name: 'outbox_lag_seconds', help: 'Age of the oldest unpublished event', type: 'gauge' },
    async () => [{ value: (await outboxLag(db)).oldestAgeSeconds }],
  );
  registerCollected(
    metrics.registry,
    { name: 'outbox_published_events_total', help: 'Events this replica published', type: 'counter' },
    async () => [{ value: relay.stats.published }],
  );
  registerCollected(
    metrics.registry,
    { name: 'outbox_relay_leader', help: '1 when this replica relays the outbox', type: 'gauge' },
    async () => [{ value: relay.stats.leader ? 1 : 0 }],
  );
  const consumerCounter = (name: string, help: string, pick: (r: ConsumerRunner<DB>) => number) =>
    registerCollected(metrics.registry, { name, help, type: 'counter', labelNames: ['consumer'] }, async () =>
      [...runners.values()].map((r) => ({ labels: { consumer: r.name }, value: pick(r) })),
    );
  consumerCounter('consumer_events_handled_total', 'Events applied', (r) => r.stats.handled);
  consumerCounter(
    'consumer_events_duplicate_total',
    'Events the inbox already had',
    (r) => r.stats.duplicates,
  );
  consumerCounter('consumer_redeliveries_total', 'Deliveries after the first', (r) => r.stats.redeliveries);
  consumerCounter('consumer_retries_total', 'Transient failures retried later', (r) => r.stats.retried);
  consumerCounter('consumer_dead_lettered_total', 'Events dead-lettered', (r) => r.stats.deadLettered);
  registerCollected(
    metrics.registry,
    {
      name: 'consumer_backlog_events',
      help: 'Events in the stream a durable consumer has not acknowledged yet (how far it is behind)',
      type: 'gauge',
      labelNames: ['consumer'],
    },
    async () =>
      Promise.all(
        [...runners.values()].map(async (r) => ({ labels: { consumer: r.name }, value: await r.backlog() })),
      ),
  );
  registerCollected(
    metrics.registry,
    { name: 'dead_letters_open', help: 'Dead letters nobody has retried or resolved yet', type: 'gauge' },
    async () => [{ value: await countOpenDeadLetters(db) }],
  );
}
