import type { FastifyPluginAsync } from 'fastify';
import { registerApiKeyRoutes } from './api-keys.routes.ts';
import { type ConfiguredApiKey, recordApiKeyUse } from './api-keys.ts';
import type { BaseConfig } from './base-config.ts';
import { CATALOG_STYLE, registerEventCatalogRoutes } from './event-catalog.routes.ts';
import { createHttpServer, type HttpServerOptions } from './http-server.ts';
import type { RunningService } from './lifecycle.ts';
import { createLogger } from './logger.ts';
import { registerOperationsRoutes } from './operations.routes.ts';
import { type RuntimeOptions, type ServiceRuntime, type ServiceTables, startRuntime } from './runtime.ts';
import { createStaffTokenVerifier, staffVerifyingKey } from './staff-token.ts';
import { startTracing } from './tracing.ts';

export interface ServiceDefinition<DB extends ServiceTables, Config extends BaseConfig>
  extends Omit<RuntimeOptions<DB>, 'config' | 'logger' | 'configuredApiKeys'> {
  http: Omit<HttpServerOptions, 'logger'>;
  /** The service's own routes: a fastify plugin that receives the runtime and config. */
  app: FastifyPluginAsync<{ runtime: ServiceRuntime<DB>; config: Config }>;
  /**
   * Background loops that run with the service (e.g. a delivery worker). Started after the runtime, before
   * HTTP listens; stopped after the consumers and before the relay, so what they commit is still relayed.
   */
  workers?: (context: { runtime: ServiceRuntime<DB>; config: Config }) => readonly ServiceWorker[];
  /** Keys the service's own variables name, beside ADMIN_API_KEY (e.g. deal-tracking's READ_API_KEY). */
  configuredApiKeys?: (config: Config) => ConfiguredApiKey[];
}

export interface ServiceWorker {
  readonly name: string;
  start(): void | Promise<void>;
  /** Finishes the work in hand and returns; nothing new is started after it is called. */
  stop(): Promise<void>;
}

/** Everything a service is, assembled: runtime first (schema migrated, stream provisioned), then HTTP. */
export async function createService<DB extends ServiceTables, Config extends BaseConfig>(
  definition: ServiceDefinition<DB, Config>,
  config: Config,
): Promise<RunningService<DB>> {
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
    for (const worker of definition.workers?.({ runtime, config }) ?? []) {
      await worker.start();
      workers.push(worker);
    }
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
    http.decorate(
      'staffTokens',
      config.STAFF_TOKEN_PUBLIC_KEY
        ? createStaffTokenVerifier(staffVerifyingKey(config.STAFF_TOKEN_PUBLIC_KEY))
        : null,
    );
    http.decorate('apiKeys', runtime.apiKeys);
    http.addHook('onSend', recordApiKeyUse(runtime.apiKeys));
    registerOperationsRoutes(http, runtime, () => shuttingDown);
    registerApiKeyRoutes(http);
    registerEventCatalogRoutes(http);
    await http.register(definition.app, { runtime, config });
    await http.ready();
    return {
      http,
      runtime,
      workers,
      markShuttingDown: () => {
        shuttingDown = true;
      },
    };
  } catch (err) {
    await Promise.all(workers.map((w) => w.stop()));
    await runtime.stop();
    throw err;
  }
}
