import { newEventId, type ServiceRuntime, systemClock } from '@citydeals/service-kit';
import type { FastifyPluginAsync } from 'fastify';
import { registerChangeRoutes } from './changes/change.routes.ts';
import type { Config } from './config.ts';
import { registerContentRoutes } from './content/content.routes.ts';
import type { DealContext } from './context.ts';
import type { Database } from './db/database.ts';
import { registerDealRoutes } from './deals/deal.routes.ts';

export interface AppOptions {
  runtime: ServiceRuntime<Database>;
  config: Config;
}

/** The service's HTTP API as a fastify plugin; feature folders register their routes here. */
export const app: FastifyPluginAsync<AppOptions> = async (fastify, { runtime }) => {
  const http = fastify as unknown as Parameters<typeof registerDealRoutes>[0];
  const ctx: DealContext = { db: runtime.db, clock: systemClock, newId: newEventId };
  registerDealRoutes(http, ctx);
  registerContentRoutes(http, ctx);
  registerChangeRoutes(http, ctx);
};
