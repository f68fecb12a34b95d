import { createService, type ServiceDefinition } from '@citydeals/service-kit';
import { app } from './app.ts';
import type { Config } from './config.ts';
import { dealProjectionConsumer } from './consumers/deal-projection.consumer.ts';
import { erasurePurgeConsumer } from './consumers/erasure-purge.consumer.ts';
import type { Database } from './db/database.ts';
import { migrations } from './db/migrations.ts';
import { meetingFeedWorkers } from './feed/meeting-feed.worker.ts';

export const definition: ServiceDefinition<Database, Config> = {
  service: 'registration',
  migrations,
  consumers: [dealProjectionConsumer],
  streamConsumers: (access) => [erasurePurgeConsumer(access)],
  workers: ({ runtime, config }) => meetingFeedWorkers(runtime, config),
  http: {
    title: 'Registration service',
    description:
      'City Deals Community of Practice — meetings, registrations with capacity and waitlist, self-service ' +
      'with a secret link, check-in, exports and calendars.',
    tags: [
      { name: 'meetings', description: 'Published meetings, for the public' },
      { name: 'registrations', description: 'Register for a meeting' },
      { name: 'self-service', description: 'View, change or cancel your registration with the emailed link' },
      { name: 'meetings (admin)', description: 'Create, edit, publish, reschedule and cancel meetings' },
      { name: 'registrations (admin)', description: 'Attendee lists, check-in and no-shows' },
      {
        name: 'meeting feed',
        description: 'Public meeting changes for other systems, without personal data',
      },
    ],
  },
  app,
  configuredApiKeys: (config) =>
    config.READ_API_KEY ? [{ name: 'READ_API_KEY', key: config.READ_API_KEY, scopes: ['read'] }] : [],
};

export function startService(config: Config) {
  return createService(definition, config);
}
