import type { ServiceRuntime } from '@citydeals/service-kit';
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import { registerEmailRoutes } from './email/email.module.ts';
import { messageRoutes } from './messages/message.routes.ts';
import { registerDeliveryMetrics } from './operations/delivery.metrics.ts';
import { webhookRoutes } from './webhooks/webhook.routes.ts';

export interface AppOptions {
  runtime: ServiceRuntime<Database>;
  config: Config;
}

/** The service's HTTP API as a fastify plugin; feature folders register their routes here. */
export const app: FastifyPluginAsync<AppOptions> = async (instance, options) => {
  registerDeliveryMetrics(options.runtime.metrics.registry, options.runtime.db);
  await instance.register(webhookRoutes, options);
  await registerEmailRoutes(instance as never, options);
  await instance.register(messageRoutes, options);
};
