import type { Logger } from 'pino';
import type { ServiceWorker } from './feature.ts';
import type { HttpServer } from './http-server.ts';
import type { ServiceRuntime, ServiceTables } from './runtime.ts';
import { flushTracing } from './tracing.ts';

/** What `server.ts` needs of a started service: its HTTP server, where to log, and how to stop it. */
export interface StoppableService {
  readonly http: HttpServer;
  readonly logger: Logger;
  /** Stops everything in the safe order (see `shutdown`). */
  stop(): Promise<void>;
}

export interface RunningService<DB extends ServiceTables, Ctx = unknown> extends StoppableService {
  readonly runtime: ServiceRuntime<DB>;
  /** The service's one context, as its features got it. */
  readonly ctx: Ctx;
  /** Background workers of the service; stopped after the consumers, before the relay. */
  readonly workers: readonly ServiceWorker[];
  /** Turns readiness red; called first on shutdown. */
  markShuttingDown(): void;
}

/**
 * The shutdown order of rule 7 in docs/architecture.md: stop taking requests, drain consumers, stop workers,
 * stop the relay, close fastify (in-flight requests finish), drain NATS, close the pool. Nothing committed is
 * lost: an event a request commits after the relay stopped stays in the outbox for the next start.
 */
export async function shutdown<DB extends ServiceTables, Ctx>(
  service: RunningService<DB, Ctx>,
): Promise<void> {
  const { http, runtime } = service;
  // New requests get 503 from here on (see runtime.plugin.ts); health checks still answer.
  service.markShuttingDown();
  await runtime.stopConsumers();
  await Promise.all(service.workers.map((w) => w.stop()));
  await runtime.relay.stop();
  await http.close();
  await runtime.stop();
  await flushTracing();
}

/** Listens, and shuts down in order on SIGTERM or SIGINT; a second signal or the timeout forces exit. */
export async function listenUntilSignalled(
  service: StoppableService,
  options: { PORT: number; HOST: string; SHUTDOWN_TIMEOUT_MS: number },
): Promise<void> {
  const { http, logger } = service;
  await http.listen({ port: options.PORT, host: options.HOST });
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, options.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    service.stop().then(
      () => {
        logger.info('stopped cleanly');
        process.exit(0);
      },
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
