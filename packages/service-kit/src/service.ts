import type { FastifyPluginAsync } from 'fastify';
import type { BaseConfig } from './base-config.ts';
import { createHttpServer, type HttpServerOptions } from './http-server.ts';
import type { RunningService } from './lifecycle.ts';
import { createLogger } from './logger.ts';
import { registerOperationsRoutes } from './operations.routes.ts';
import { type RuntimeOptions, type ServiceRuntime, type ServiceTables, startRuntime } from './runtime.ts';

export interface ServiceDefinition<DB extends ServiceTables, Config extends BaseConfig>
  extends Omit<RuntimeOptions<DB>, 'config' | 'logger'> {
  http: Omit<HttpServerOptions, 'logger'>;
  /** The service's own routes: a fastify plugin that receives the runtime and config. */
  app: FastifyPluginAsync<{ runtime: ServiceRuntime<DB>; config: Config }>;
}

/** Everything a service is, assembled: runtime first (schema migrated, stream provisioned), then HTTP. */
export async function createService<DB extends ServiceTables, Config extends BaseConfig>(
  definition: ServiceDefinition<DB, Config>,
  config: Config,
): Promise<RunningService<DB>> {
  const logger = createLogger({ service: definition.service, level: config.LOG_LEVEL });
  const runtime = await startRuntime<DB>({ ...definition, config, logger });
  let shuttingDown = false;
  try {
    const http = await createHttpServer({ ...definition.http, logger });
    registerOperationsRoutes(http, runtime, () => shuttingDown);
    await http.register(definition.app, { runtime, config });
    await http.ready();
    return {
      http,
      runtime,
      markShuttingDown: () => {
        shuttingDown = true;
      },
    };
  } catch (err) {
    await runtime.stop();
    throw err;
  }
}
