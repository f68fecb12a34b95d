import { randomBytes } from 'node:crypto';
import type { JetStreamManager } from '@nats-io/jetstream';
import pg from 'pg';

/** The shared servers of the machine; CI starts them, and each test run isolates itself by name. */
export const testServers = Object.freeze({
  postgresAdminUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
});

/** A short unique token for names of databases, roles, streams and consumers in one test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  readonly name: string;
  /** Superuser URL of the fresh database. */
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates an empty database of its own; `drop()` removes it even if connections are still open. */
export async function createTestDatabase(
  prefix = 'cd_test',
  adminUrl = testServers.postgresAdminUrl,
): Promise<TestDatabase> {
  const name = uniqueName(prefix);
  await withAdmin((c) => c.query(`create database "${name}"`), adminUrl);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await withAdmin((c) => c.query(`drop database if exists "${name}" with (force)`), adminUrl);
    },
  };
}

/**
 * A test database whose commits do not wait for the WAL flush (`synchronous_commit = off`, set on the
 * database so every connection of the service under test gets it). A test's subject is never surviving a
 * Postgres crash — the fault suite and the benchmark use durable databases (createTestDatabase) — and
 * waiting for the disk on every commit is most of the time of a test run on a busy machine.
 */
export async function createQuickTestDatabase(
  prefix = 'cd_test',
  adminUrl = testServers.postgresAdminUrl,
): Promise<TestDatabase> {
  const database = await createTestDatabase(prefix, adminUrl);
  await withAdmin((c) => c.query(`alter database "${database.name}" set synchronous_commit = off`), adminUrl);
  return database;
}

export async function withAdmin<T>(
  fn: (client: pg.Client) => Promise<T>,
  adminUrl = testServers.postgresAdminUrl,
): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Polls until `check` returns a truthy value or the time is up; returns the last value. */
export async function eventually<T>(
  check: () => Promise<T> | T,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Environment for a service under test: its own database and event namespace on the shared servers, a
 * known admin key, and quiet logs.
 */
export function testServiceEnv(database: TestDatabase, eventNamespace: string): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    NATS_URL: testServers.natsUrl,
    EVENT_NAMESPACE: eventNamespace,
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PORT: '0',
    // Tests drive many requests from one address on purpose; the limit itself is tested on its own.
    RATE_LIMIT_PER_MINUTE: '0',
    // Load from one address into few meetings on purpose: the registration budgets and the waitlist bound
    // are tested on their own (services/registration/test/public-abuse.test.ts).
    REGISTRATIONS_PER_CLIENT_PER_HOUR: '0',
    REGISTRATIONS_PER_ADDRESS_PER_HOUR: '0',
    LINK_REQUESTS_PER_CLIENT_PER_HOUR: '0',
    WAITLIST_LIMIT: '0',
  };
}

export const TEST_ADMIN_KEY = 'cdk_test-admin-key-0123456789abcdef';
export const adminHeaders = Object.freeze({ authorization: `Bearer ${TEST_ADMIN_KEY}` });

/** Removes a namespace's streams (and so their consumers) from the shared NATS server. */
export async function deleteNamespaceStreams(jsm: JetStreamManager, prefix: string): Promise<void> {
  const names: string[] = [];
  for await (const info of jsm.streams.list()) {
    if (info.config.name.startsWith(`${prefix}_`)) names.push(info.config.name);
  }
  await Promise.all(names.map((n) => jsm.streams.delete(n)));
}

export interface TestServiceContext<S> {
  service: S;
  database: TestDatabase;
  env: Record<string, string>;
  namespace: string;
  close(): Promise<void>;
}

/**
 * Starts a service on a database and event namespace of its own; `close()` shuts it down and removes
 * the database and the namespace's streams.
 */
export async function startTestService<S>(
  start: (env: Record<string, string>) => Promise<S>,
  stop: (service: S) => Promise<void>,
  extraEnv: Record<string, string> = {},
): Promise<TestServiceContext<S>> {
  const database = await createQuickTestDatabase();
  const ns = uniqueName('t');
  const env = { ...testServiceEnv(database, ns), ...extraEnv };
  const service = await start(env);
  return {
    service,
    database,
    env,
    namespace: ns,
    async close() {
      await stop(service).catch(() => {});
      await removeNamespace(ns);
      await database.drop();
    },
  };
}

async function removeNamespace(prefix: string): Promise<void> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: testServers.natsUrl, name: 'test-cleanup' });
  try {
    await deleteNamespaceStreams(await jetstreamManager(nc), prefix);
  } finally {
    await nc.close();
  }
}

export * from './openapi-lint.ts';
export * from './own-servers.ts';
export * from './personal-data.ts';
export * from './recorded-events.ts';
export * from './tcp-proxy.ts';
