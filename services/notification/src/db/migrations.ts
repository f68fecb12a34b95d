import type { Migrations } from '@citydeals/db';
import { alertMigrations } from './alerts.migrations.ts';
import { dealNewsMigrations } from './deal-news.migrations.ts';
import { emailMigrations } from './email.migrations.ts';
import { mailTextMigrations } from './mail-texts.migrations.ts';
import { retentionMigrations } from './retention.migrations.ts';
import { webhookMigrations } from './webhooks.migrations.ts';

/** The service's own migrations, frozen in time: each takes Kysely<any> and never imports app types. */
export const migrations: Migrations = {
  ...emailMigrations,
  ...webhookMigrations,
  ...retentionMigrations,
  ...alertMigrations,
  ...mailTextMigrations,
  ...dealNewsMigrations,
};
