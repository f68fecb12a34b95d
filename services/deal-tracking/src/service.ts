import {
  createService,
  newEventId,
  type ServiceDefinition,
  shutdown,
  systemClock,
} from '@citydeals/service-kit';
import { app } from './app.ts';
import type { Config } from './config.ts';
import { personErasedConsumer } from './consumers/person-erased.consumer.ts';
import type { Database } from './db/database.ts';
import { migrations } from './db/migrations.ts';
import { seedDemoData } from './seed/seed.service.ts';

export const definition: ServiceDefinition<Database, Config> = {
  service: 'deal_tracking',
  migrations,
  consumers: [],
  http: {
    title: 'Deal tracking service',
    description:
      'City Deals Community of Practice — where every City Deal and Town Deal stands: phases with their ' +
      'history, term, people, partners, results, lessons and cross-links, and a change feed for other systems. ' +
      'Every change has a version and publishes one event (see the event catalogue).',
    tags: [
      { name: 'deals', description: 'Create, edit, list and read deals' },
      { name: 'phases and term', description: 'The phase machine, term extensions and tranches' },
      { name: 'deal content', description: 'People, partners, results, lessons and cross-links' },
      { name: 'changes', description: 'History of a deal and the change feed of all deals' },
    ],
  },
  app,
  configuredApiKeys: (config) =>
    config.READ_API_KEY ? [{ name: 'READ_API_KEY', key: config.READ_API_KEY, scopes: ['read'] }] : [],
};

export async function startService(config: Config) {
  // The erasure consumer needs the digest key, which the static definition does not have.
  const service = await createService(
    {
      ...definition,
      consumers: [...(definition.consumers ?? []), personErasedConsumer(config.PERSON_DIGEST_KEY)],
    },
    config,
  );
  try {
    const db = service.runtime.db;
    if (!config.PERSON_DIGEST_KEY) {
      service.runtime.logger.warn(
        'PERSON_DIGEST_KEY is not set: erasures are matched by an unkeyed digest of the address',
      );
    }
    if (config.SEED_DEMO_DATA) {
      const seeded = await seedDemoData({ db, clock: systemClock, newId: newEventId });
      service.runtime.logger.info({ deals: seeded }, seeded ? 'demo data seeded' : 'demo data already there');
    }
  } catch (err) {
    await shutdown(service);
    throw err;
  }
  return service;
}
