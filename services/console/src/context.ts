import type {
  FeatureOptions,
  ServiceContext as KitServiceContext,
  ServicePlugin,
} from '@citydeals/service-kit';
import type { ServicesClient } from './backends/services.client.ts';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';

/** The console's one context: what routes and services need, injected so tests can fix clock and ids. */
export interface ServiceContext extends KitServiceContext<Database> {
  readonly config: Config;
  readonly services: ServicesClient;
}

/** The routes of a feature: a fastify plugin given the context and the config. */
export type Routes = ServicePlugin<FeatureOptions<ServiceContext, Config>>;
