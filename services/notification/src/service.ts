import { createService, type ServiceDefinition } from '@citydeals/service-kit';
import { app } from './app.ts';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import { migrations } from './db/migrations.ts';

export const definition: ServiceDefinition<Database, Config> = {
  service: 'notification',
  migrations,
  consumers: [],
  http: {
    title: 'Notification service',
    description: 'City Deals Community of Practice — Notification service.',
  },
  app,
};

export function startService(config: Config) {
  return createService(definition, config);
}
