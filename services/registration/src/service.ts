import { createService, newEventId, type ServiceDefinition } from '@citydeals/service-kit';
import { app, features } from './app.ts';
import type { Config } from './config.ts';
import { createServiceContext, type ServiceContext } from './context.ts';
import type { Database } from './db/database.ts';
import { migrations } from './db/migrations.ts';
import { seedDemoMeeting } from './demo/demo-meeting.ts';

export const definition: ServiceDefinition<Database, Config, ServiceContext> = {
  service: 'registration',
  migrations,
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
  context: ({ runtime, config, clock }) =>
    createServiceContext({
      db: runtime.db,
      clock,
      newId: newEventId,
      publicBaseUrl: config.PUBLIC_BASE_URL.replace(/\/+$/, ''),
      limits: {
        registrationsPerClientPerHour: config.REGISTRATIONS_PER_CLIENT_PER_HOUR,
        registrationsPerAddressPerHour: config.REGISTRATIONS_PER_ADDRESS_PER_HOUR,
        linkMailsPerAddressPerHour: config.LINK_MAILS_PER_ADDRESS_PER_HOUR,
        linkRequestsPerClientPerHour: config.LINK_REQUESTS_PER_CLIENT_PER_HOUR,
        waitlistLimit: config.WAITLIST_LIMIT,
      },
    }),
  features,
  app,
  configuredApiKeys: (config) =>
    config.READ_API_KEY ? [{ name: 'READ_API_KEY', key: config.READ_API_KEY, scopes: ['read'] }] : [],
  async started({ ctx, config, runtime }) {
    if (!config.PERSON_DIGEST_KEY) {
      runtime.logger.warn(
        'PERSON_DIGEST_KEY is not set: erasure announcements name people by an unkeyed digest of their address',
      );
    }
    if (config.SEED_DEMO_DATA) {
      const outcome = await seedDemoMeeting(ctx);
      runtime.logger.info({ outcome }, 'demo meeting');
    }
  },
};

/** `clock` replaces the system clock (tests). */
export function startService(config: Config, options: { clock?: ServiceContext['clock'] } = {}) {
  return createService(definition, config, options);
}
