import { createDatabase, migrateSchema } from '@citydeals/db';
import {
  type Clock,
  createHttpServer,
  createLogger,
  createMetrics,
  newEventId,
  type StoppableService,
  staffSigningKey,
  systemClock,
} from '@citydeals/service-kit';
import type { Kysely } from 'kysely';
import { app } from './app.ts';
import { createServicesClient } from './backends/services.client.ts';
import type { Config } from './config.ts';
import type { ServiceContext } from './context.ts';
import type { Database } from './db/database.ts';
import { migrations } from './db/migrations.ts';
import { healthRoutes } from './operations/health.routes.ts';

export interface ConsoleService extends StoppableService {
  readonly ctx: ServiceContext;
}

/** The one context, for the service and for its commands. */
export function consoleContext(config: Config, db: Kysely<Database>, clock: Clock): ServiceContext {
  return {
    db,
    clock,
    newId: newEventId,
    config,
    services: createServicesClient({
      urls: {
        registration: config.REGISTRATION_URL,
        dealTracking: config.DEAL_TRACKING_URL,
        notification: config.NOTIFICATION_URL,
      },
      signingKey: staffSigningKey(config.CONSOLE_SIGNING_KEY),
      clock,
    }),
  };
}

/** The console: its schema migrated, then HTTP. No NATS: it consumes no events in this slice. */
export async function startService(config: Config, options: { clock?: Clock } = {}): Promise<ConsoleService> {
  const logger = createLogger({ service: 'console', level: config.LOG_LEVEL });
  const database = createDatabase<Database>({
    connectionString: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    maxConnections: config.DATABASE_POOL_SIZE,
    applicationName: 'console',
  });
  let shuttingDown = false;
  try {
    const applied = await migrateSchema(database.db, config.DATABASE_SCHEMA, migrations);
    logger.info({ schema: config.DATABASE_SCHEMA, migrations: applied.length }, 'schema migrated');
    const ctx = consoleContext(config, database.db, options.clock ?? systemClock);
    const http = await createHttpServer({
      title: 'Console',
      description: 'City Deals Community of Practice — the programme office’s back office (HTML pages).',
      logger,
      bodyLimit: 64 * 1024,
      rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
      trustProxy: config.TRUST_PROXY,
    });
    healthRoutes(http, {
      pool: database.pool,
      metrics: createMetrics('console'),
      isShuttingDown: () => shuttingDown,
    });
    await http.register(app, { ctx, config });
    await http.ready();
    return {
      http,
      ctx,
      logger,
      /** Readiness turns red first, then HTTP closes (requests in flight finish), then the pool. */
      async stop() {
        shuttingDown = true;
        await http.close();
        await database.destroy();
      },
    };
  } catch (err) {
    await database.destroy();
    throw err;
  }
}
