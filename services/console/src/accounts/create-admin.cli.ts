// npm run console:create-admin -- --email a@b.nl --name "Naam": the first beheerder of an empty console.
// The password is generated and printed once (or taken from CONSOLE_ADMIN_PASSWORD); nothing happens when
// accounts exist already.
import { parseArgs } from 'node:util';
import { createDatabase, migrateSchema } from '@citydeals/db';
import { systemClock } from '@citydeals/service-kit';
import { loadServiceConfig } from '../config.ts';
import type { Database } from '../db/database.ts';
import { migrations } from '../db/migrations.ts';
import { consoleContext } from '../service.ts';
import { ensureFirstAdmin } from './account.service.ts';

const { values } = parseArgs({
  options: { email: { type: 'string' }, name: { type: 'string', default: 'Beheerder' } },
});
const email = values.email ?? process.env.CONSOLE_ADMIN_EMAIL;
if (!email) {
  process.stderr.write('usage: npm run console:create-admin -- --email <address> [--name <name>]\n');
  process.exit(2);
}
const config = loadServiceConfig();
const database = createDatabase<Database>({
  connectionString: config.DATABASE_URL,
  schema: config.DATABASE_SCHEMA,
});
try {
  await migrateSchema(database.db, config.DATABASE_SCHEMA, migrations);
  const ctx = consoleContext(config, database.db, systemClock);
  const result = await ensureFirstAdmin(ctx, {
    email,
    name: values.name,
    password: process.env.CONSOLE_ADMIN_PASSWORD || undefined,
  });
  process.stdout.write(
    result.created
      ? `${JSON.stringify({ created: true, email: result.email, password: result.password })}\n`
      : `${JSON.stringify({ created: false, reason: 'the console has accounts already' })}\n`,
  );
} finally {
  await database.destroy();
}
