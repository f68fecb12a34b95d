import { createDatabase, migrateSchema } from '@citydeals/db';
import { messagingMigrations } from '@citydeals/messaging';
import type { Clock, RunningService } from '@citydeals/service-kit';
import { createQuickTestDatabase, startTestService, type TestServiceContext } from '@citydeals/testkit';
import { loadServiceConfig } from '../src/config.ts';
import type { ServiceContext } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { migrations } from '../src/db/migrations.ts';
import { startService } from '../src/service.ts';

export type Notification = RunningService<Database, ServiceContext>;

/**
 * The whole service on its own database and event namespace; `close()` stops it and removes both. `clock`
 * replaces the system clock of reminder schedules and mail expiry, `alertClock` that of alerts' windows.
 */
export function startNotification(
  extraEnv: Record<string, string> = {},
  options: { clock?: Clock; alertClock?: Clock } = {},
): Promise<TestServiceContext<Notification>> {
  return startTestService(
    (env) => startService(loadServiceConfig(env), options),
    (service) => service.stop(),
    extraEnv,
  );
}

/**
 * The service's schema alone, migrated, on a database of its own: for tests of repositories and workers
 * without the service around them. `close()` closes the pools and drops the database.
 */
export async function notificationSchema() {
  const schema = 'notification';
  const database = await createQuickTestDatabase();
  const parts = createDatabase<Database>({ connectionString: database.url, schema });
  await migrateSchema(parts.db, schema, { ...messagingMigrations(schema), ...migrations });
  return {
    ...parts,
    database,
    schema,
    async close() {
      await parts.destroy();
      await database.drop();
    },
  };
}
