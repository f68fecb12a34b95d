import { createService, newEventId, type ServiceDefinition } from '@citydeals/service-kit';
import { app, features } from './app.ts';
import type { Config } from './config.ts';
import type { ServiceContext } from './context.ts';
import type { Database } from './db/database.ts';
import { migrations } from './db/migrations.ts';
import { seedDemoData } from './seed/seed.service.ts';

export const definition: ServiceDefinition<Database, Config, ServiceContext> = {
  service: 'deal_tracking',
  migrations,
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
  context: ({ runtime, clock }) => ({ db: runtime.db, clock, newId: newEventId }),
  features,
  app,
  async started({ ctx, config, runtime }) {
    if (!config.PERSON_DIGEST_KEY) {
      runtime.logger.warn(
        'PERSON_DIGEST_KEY is not set: erasures are matched by an unkeyed digest of the address',
      );
    }
    if (config.SEED_DEMO_DATA) {
      const seeded = await seedDemoData(ctx);
      runtime.logger.info({ deals: seeded }, seeded ? 'demo data seeded' : 'demo data already there');
    }
  },
  configuredApiKeys: (config) =>
    config.READ_API_KEY ? [{ name: 'READ_API_KEY', key: config.READ_API_KEY, scopes: ['read'] }] : [],
};

/** `clock` replaces the system clock (tests). */
export function startService(config: Config, options: { clock?: ServiceContext['clock'] } = {}) {
  return createService(definition, config, options);
}
