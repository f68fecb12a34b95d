import { apiKeyRoutes } from './api-keys.routes.ts';
import type { ConfiguredApiKey } from './api-keys.ts';
import { authPlugin } from './auth.plugin.ts';
import type { BaseConfig } from './base-config.ts';
import { CATALOG_STYLE, eventCatalogRoutes } from './event-catalog.routes.ts';
import type { Feature, FeatureOptions, ServiceWorker } from './feature.ts';
import { createHttpServer, type HttpServerOptions, type ServicePlugin } from './http-server.ts';
import { type RunningService, shutdown } from './lifecycle.ts';
import { createLogger } from './logger.ts';
import { operationsRoutes } from './operations.routes.ts';
import { runtimePlugin } from './runtime.plugin.ts';
import {
  type Clock,
  type RuntimeOptions,
  type ServiceRuntime,
  type ServiceTables,
  startRuntime,
  systemClock,
} from './runtime.ts';
import { createStaffTokenVerifier, staffVerifyingKey } from './staff-token.ts';
import { startTracing } from './tracing.ts';

/**
 * A service, declared: what the kit starts (schema, stream, relay), the one context its features share, and
 * the features themselves. `createService` turns it into a running service; each service's `service.ts`
 * holds one.
 */
export interface ServiceDefinition<DB extends ServiceTables, Config extends BaseConfig, Ctx>
  extends Omit<RuntimeOptions, 'config' | 'logger' | 'configuredApiKeys'> {
  http: Omit<HttpServerOptions, 'logger'>;
  /** The service's one context, built once from its runtime and config; `clock` is fixed by tests. */
  context(parts: { runtime: ServiceRuntime<DB>; config: Config; clock: Clock }): Ctx;
  /** Each feature's consumers and workers are started with the service (`app.ts` lists them). */
  features: readonly Feature<DB, Ctx, Config>[];
  /** The service's HTTP API (`app.ts`): a fastify plugin registered with the context and the config. */
  app: ServicePlugin<FeatureOptions<Ctx, Config>>;
  /** Runs once the consumers and workers have started, before HTTP (demo data, warnings about the config). */
  started?(parts: { ctx: Ctx; config: Config; runtime: ServiceRuntime<DB> }): Promise<void>;
  /** Keys the service's own variables name, beside ADMIN_API_KEY (e.g. deal-tracking's READ_API_KEY). */
  configuredApiKeys?: (config: Config) => ConfiguredApiKey[];
}

/**
 * Everything a service is, assembled: runtime first (schema migrated, stream provisioned), then the context,
 * the features' consumers and workers, then HTTP with the kit's plugins (runtime, auth) and routes.
 */
export async function createService<DB extends ServiceTables, Config extends BaseConfig, Ctx>(
  definition: ServiceDefinition<DB, Config, Ctx>,
  config: Config,
  options: { clock?: Clock } = {},
): Promise<RunningService<DB, Ctx>> {
  const logger = createLogger({ service: definition.service, level: config.LOG_LEVEL });
  await startTracing(definition.service, logger);
  const configuredApiKeys: ConfiguredApiKey[] = [
    ...(config.ADMIN_API_KEY
      ? [{ name: 'ADMIN_API_KEY', key: config.ADMIN_API_KEY, scopes: ['admin' as const] }]
      : []),
    ...(definition.configuredApiKeys?.(config) ?? []),
  ];
  const runtime = await startRuntime<DB>({ ...definition, config, logger, configuredApiKeys });
  let shuttingDown = false;
  const workers: ServiceWorker[] = [];
  try {
    const ctx = definition.context({ runtime, config, clock: options.clock ?? systemClock });
    const parts = { ctx, config, runtime };
    await runtime.startConsumers(definition.features.flatMap((f) => f.consumers?.(parts) ?? []));
    for (const worker of definition.features.flatMap((f) => f.workers?.(parts) ?? [])) {
      await worker.start();
      workers.push(worker);
    }
    await definition.started?.(parts);
    const http = await createHttpServer({
      ...definition.http,
      logger,
      rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
      trustProxy: config.TRUST_PROXY,
      timeouts: {
        requestMs: config.HTTP_REQUEST_TIMEOUT_MS,
        idleMs: config.HTTP_IDLE_TIMEOUT_MS,
        keepAliveMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
        drainMs: config.HTTP_DRAIN_TIMEOUT_MS,
      },
      contentSecurity: {
        inlineStyles: [CATALOG_STYLE, ...(definition.http.contentSecurity?.inlineStyles ?? [])],
        inlineScripts: definition.http.contentSecurity?.inlineScripts ?? [],
      },
    });
    await http.register(runtimePlugin, { runtime, isShuttingDown: () => shuttingDown });
    await http.register(authPlugin, {
      apiKeys: runtime.apiKeys,
      staffTokens: config.STAFF_TOKEN_PUBLIC_KEY
        ? createStaffTokenVerifier(staffVerifyingKey(config.STAFF_TOKEN_PUBLIC_KEY))
        : null,
    });
    await http.register(operationsRoutes);
    await http.register(apiKeyRoutes);
    await http.register(eventCatalogRoutes);
    await http.register(definition.app, { ctx, config });
    await http.ready();
    const service: RunningService<DB, Ctx> = {
      http,
      runtime,
      ctx,
      logger,
      workers,
      markShuttingDown: () => {
        shuttingDown = true;
      },
      stop: () => shutdown(service),
    };
    return service;
  } catch (err) {
    await Promise.all(workers.map((w) => w.stop()));
    await runtime.stop();
    throw err;
  }
}
