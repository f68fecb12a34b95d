import type { ConsumerDefinition } from '@citydeals/messaging';
import type { BaseConfig } from './base-config.ts';
import type { ServicePlugin } from './http-server.ts';
import type { ServiceRuntime, ServiceTables } from './runtime.ts';

/** What a feature's routes are registered with: the service's one context and its parsed config. */
export type FeatureOptions<Ctx, Config> = { ctx: Ctx; config: Config };

/** What the consumers and workers of a feature are built from, once the service's runtime is up. */
export interface FeatureParts<DB extends ServiceTables, Ctx, Config extends BaseConfig> {
  ctx: Ctx;
  config: Config;
  runtime: ServiceRuntime<DB>;
}

/**
 * A background loop that runs with the service (a delivery worker, a sweep). Started after the consumers,
 * before HTTP listens; stopped after the consumers and before the relay, so what it commits is still relayed.
 */
export interface ServiceWorker {
  readonly name: string;
  start(): void | Promise<void>;
  /** Finishes the work in hand and returns; nothing new is started after it is called. */
  stop(): Promise<void>;
}

/**
 * One feature folder of a service, as the service is wired from it: its HTTP routes (a fastify plugin), the
 * event consumers it owns and its background workers. A service is the list of its features (`app.ts`).
 */
export interface Feature<DB extends ServiceTables, Ctx, Config extends BaseConfig> {
  readonly name: string;
  readonly routes?: ServicePlugin<FeatureOptions<Ctx, Config>>;
  readonly consumers?: (parts: FeatureParts<DB, Ctx, Config>) => readonly ConsumerDefinition<DB>[];
  readonly workers?: (parts: FeatureParts<DB, Ctx, Config>) => readonly ServiceWorker[];
}

/** The HTTP API of a list of features, as one fastify plugin: each feature's routes in its own scope. */
export function featureRoutes<DB extends ServiceTables, Ctx, Config extends BaseConfig>(
  features: readonly Feature<DB, Ctx, Config>[],
): ServicePlugin<FeatureOptions<Ctx, Config>> {
  return async (app, options) => {
    for (const feature of features) {
      if (feature.routes) await app.register(feature.routes, options);
    }
  };
}
