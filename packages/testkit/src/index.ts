import { randomBytes } from 'node:crypto';
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
export async function createTestDatabase(prefix = 'cd_test'): Promise<TestDatabase> {
  const name = uniqueName(prefix);
  await withAdmin((c) => c.query(`create database "${name}"`));
  const url = new URL(testServers.postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await withAdmin((c) => c.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testServers.postgresAdminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Polls until `check` returns a truthy value or the time is up; returns the last value. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
