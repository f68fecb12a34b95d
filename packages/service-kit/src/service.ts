import type { FastifyPluginAsync } from 'fastify';
import type { BaseConfig } from './base-config.ts';
import { registerEventCatalogRoutes } from './event-catalog.routes.ts';
import { createHttpServer, type HttpServerOptions } from './http-server.ts';
import type { RunningService } from './lifecycle.ts';
import { createLogger } from './logger.ts';
import { registerOperationsRoutes } from './operations.routes.ts';
import { type RuntimeOptions, type ServiceRuntime, type ServiceTables, startRuntime } from './runtime.ts';
import { createStaffTokenVerifier, staffVerifyingKey } from './staff-token.ts';

export interface ServiceDefinition<DB extends ServiceTables, Config extends BaseConfig>
  extends Omit<RuntimeOptions<DB>, 'config' | 'logger'> {
  http: Omit<HttpServerOptions, 'logger'>;
  /** The service's own routes: a fastify plugin that receives the runtime and config. */
  app: FastifyPluginAsync<{ runtime: ServiceRuntime<DB>; config: Config }>;
  /**
   * Background loops that run with the service (e.g. a delivery worker). Started after the runtime, before
   * HTTP listens; stopped after the consumers and before the relay, so what they commit is still relayed.
   */
  workers?: (context: { runtime: ServiceRuntime<DB>; config: Config }) => readonly ServiceWorker[];
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
  const runtime = await startRuntime<DB>({ ...definition, config, logger });
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
    });
    http.decorate(
      'staffTokens',
      config.STAFF_TOKEN_PUBLIC_KEY
        ? createStaffTokenVerifier(staffVerifyingKey(config.STAFF_TOKEN_PUBLIC_KEY))
        : null,
    );
    registerOperationsRoutes(http, runtime, () => shuttingDown);
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
