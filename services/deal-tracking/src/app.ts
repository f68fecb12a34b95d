import { type Feature, featureRoutes } from '@citydeals/service-kit';
import { changeRoutes } from './changes/change.routes.ts';
import type { Config } from './config.ts';
import { personErasedConsumer } from './consumers/person-erased.consumer.ts';
import { contentRoutes } from './content/content.routes.ts';
import type { ServiceContext } from './context.ts';
import type { Database } from './db/database.ts';
import { dealRoutes } from './deals/deal.routes.ts';

/** The service, feature by feature: each brings its routes, consumers and workers. */
export const features: readonly Feature<Database, ServiceContext, Config>[] = [
  { name: 'deals', routes: dealRoutes },
  { name: 'content', routes: contentRoutes },
  { name: 'changes', routes: changeRoutes },
  {
    name: 'privacy',
    consumers: ({ ctx, config }) => [personErasedConsumer(ctx, config.PERSON_DIGEST_KEY)],
  },
];

/** The service's HTTP API as a fastify plugin: every feature's routes, given the context and config. */
export const app = featureRoutes(features);
