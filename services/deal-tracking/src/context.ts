import type {
  FeatureOptions,
  ServiceContext as KitServiceContext,
  ServicePlugin,
} from '@citydeals/service-kit';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';

/**
 * The service's one context: what its routes, consumer and functions need from outside, injected so tests
 * and the seed can fix clock and ids.
 */
export type ServiceContext = KitServiceContext<Database>;

/** The routes of a feature: a fastify plugin given the context and the config. */
export type Routes = ServicePlugin<FeatureOptions<ServiceContext, Config>>;

/** CloudEvents `source` of everything this service publishes. */
export const EVENT_SOURCE = '/deal-tracking';
