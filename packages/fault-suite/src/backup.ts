import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deleteNamespaceStreams } from '@citydeals/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';

const run = promisify(execFile);
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface SchemaDumps {
  /** One custom-format file per schema, all taken from the same snapshot. */
  files: Record<string, string>;
  /** When the snapshot was exported: what committed before is in the dumps, what committed after is not. */
  snapshotAt: number;
  /** When the last dump finished. */
  finishedAt: number;
}

/**
 * docs/backup-restore.md, step 1: one `pg_dump --schema` per service, all reading one exported snapshot,
 * so the three dumps show the system at a single instant even though each is restorable on its own.
 */
export async function dumpSchemas(
  databaseUrl: string,
  schemas: readonly string[],
  dir: string,
): Promise<SchemaDumps> {
  const holder = new pg.Client({ connectionString: databaseUrl });
  await holder.connect();
  try {
    await holder.query('begin isolation level repeatable read');
    const { rows } = await holder.query<{ id: string }>('select pg_export_snapshot() as id');
    const snapshotAt = Date.now();
    const files: Record<string, string> = {};
    await Promise.all(
      schemas.map(async (schema) => {
        const file = join(dir, `${schema}.dump`);
        await run(join(PG_BIN, 'pg_dump'), [
          `--snapshot=${rows[0]!.id}`,
          `--schema=${schema}`,
          '--format=custom',
          `--file=${file}`,
          `--dbname=${databaseUrl}`,
        ]);
        files[schema] = file;
      }),
    );
    return { files, snapshotAt, finishedAt: Date.now() };
  } finally {
    await holder.query('commit').catch(() => {});
    await holder.end();
  }
}

/** docs/backup-restore.md, step 3: each dump into the fresh database. */
export async function restoreSchemas(databaseUrl: string, dumps: SchemaDumps): Promise<void> {
  for (const file of Object.values(dumps.files)) {
    await run(join(PG_BIN, 'pg_restore'), ['--exit-on-error', `--dbname=${databaseUrl}`, file]);
  }
}

/**
 * docs/backup-restore.md, step 4: the event log goes back to the snapshot too. The namespace's streams (and
 * with them every durable consumer's position) are deleted, and every outbox row the restored schemas still
 * hold is marked unpublished, so the relays publish them again, in order, with their own event ids; the
 * restored inboxes drop what was applied before the snapshot and apply the rest.
 */
export async function resetEventLog(
  databaseUrl: string,
  natsUrl: string,
  namespace: string,
  schemas: readonly string[],
): Promise<{ republished: number }> {
  const nc = await connect({ servers: natsUrl.split(',') });
  try {
    await deleteNamespaceStreams(await jetstreamManager(nc), namespace);
  } finally {
    await nc.close();
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    let republished = 0;
    for (const schema of schemas) {
      const res = await client.query(
        `update ${schema}.outbox set published_at = null where published_at is not null`,
      );
      republished += res.rowCount ?? 0;
    }
    return { republished };
  } finally {
    await client.end();
  }
}
