import type { HttpServer } from './http-server.ts';
import type { ServiceRuntime, ServiceTables } from './runtime.ts';
import type { ServiceWorker } from './service.ts';
import { flushTracing } from './tracing.ts';

export interface RunningService<DB extends ServiceTables> {
  http: HttpServer;
  runtime: ServiceRuntime<DB>;
  /** Background workers of the service; stopped after the consumers, before the relay. */
  workers?: readonly ServiceWorker[];
  /** Turns readiness red; called first on shutdown. */
  markShuttingDown(): void;
}

/**
 * The shutdown order of rule 7 in docs/architecture.md: stop taking requests, drain consumers, stop workers,
 * stop the relay, close fastify (in-flight requests finish), drain NATS, close the pool. Nothing committed is
 * lost: an event a request commits after the relay stopped stays in the outbox for the next start.
 */
export async function shutdown<DB extends ServiceTables>(service: RunningService<DB>): Promise<void> {
  const { http, runtime } = service;
  // New requests get 503 from here on (see registerOperationsRoutes); health checks still answer.
  service.markShuttingDown();
  await runtime.stopConsumers();
  await Promise.all((service.workers ?? []).map((w) => w.stop()));
  await runtime.relay.stop();
  await http.close();
  await runtime.stop();
  await flushTracing();
}

/** Listens, and shuts down in order on SIGTERM or SIGINT; a second signal or the timeout forces exit. */
export async function listenUntilSignalled<DB extends ServiceTables>(
  service: RunningService<DB>,
  options: { port: number; host: string; shutdownTimeoutMs: number },
): Promise<void> {
  const { http, runtime } = service;
  await http.listen({ port: options.port, host: options.host });
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      runtime.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    runtime.logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      runtime.logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, options.shutdownTimeoutMs);
    timer.unref();
    shutdown(service).then(
      () => {
        runtime.logger.info('stopped cleanly');
        process.exit(0);
      },
      (err) => {
        runtime.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
