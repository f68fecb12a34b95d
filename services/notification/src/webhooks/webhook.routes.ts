import type { FastifyPluginAsync } from 'fastify';
import type { AppOptions } from '../app.ts';
import { deliveryRoutes } from './delivery.routes.ts';
import { endpointRoutes } from './endpoint.routes.ts';
import { endpointDepsOf } from './webhook.context.ts';

/** Every webhook route: endpoints admin, delivery log and recovery. */
export const webhookRoutes: FastifyPluginAsync<AppOptions> = async (app, { runtime, config }) => {
  const deps = endpointDepsOf(runtime, config);
  await app.register(endpointRoutes, { deps });
  await app.register(deliveryRoutes, { deps });
};
