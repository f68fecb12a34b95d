import {
  type Clock,
  newEventId,
  type ServiceRuntime,
  type ServiceWorker,
  systemClock,
} from '@citydeals/service-kit';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { createEmailContext, type EmailContext, emailClock } from './email.context.ts';
import { EmailSender } from './email.sender.ts';
import { createMailTransport } from './mail.transport.ts';

/**
 * The email feature's context; `clock` replaces the system clock in tests. REMINDER_CLOCK_SHIFT_MS moves only
 * the schedule: mails are still dated with the real time.
 */
export function emailContextFor(config: Config, clock: Clock = systemClock): EmailContext {
  return createEmailContext(config, emailClock(config, clock), newEventId, clock);
}

/** The mail sender, started and stopped with the service. */
export function emailWorkers(
  context: { runtime: ServiceRuntime<Database>; config: Config },
  ctx: EmailContext,
): ServiceWorker[] {
  const { runtime, config } = context;
  const logger = runtime.logger.child({ feature: 'email' });
  const transport = createMailTransport({
    smtpUrl: config.SMTP_URL,
    mailDir: config.MAIL_DIR,
    maxConnections: config.SMTP_MAX_CONNECTIONS,
    consoleUrl: ctx.consoleUrl,
  });
  const sender = new EmailSender(
    runtime.indexPlannedDb,
    ctx,
    transport,
    {
      batchSize: config.MAIL_BATCH_SIZE,
      concurrency: config.MAIL_SENDERS,
      pollMs: config.MAIL_POLL_MS,
      leaseMs: config.MAIL_LEASE_MS,
      maxInFlight: config.SMTP_MAX_CONNECTIONS,
      probeMs: config.SMTP_PROBE_INTERVAL_MS,
      retry: {
        maxAttempts: config.MAIL_MAX_ATTEMPTS,
        baseMs: config.MAIL_RETRY_BASE_MS,
        maxMs: config.MAIL_RETRY_MAX_MS,
      },
    },
    logger,
  );
  logger.info(
    { transport: transport.kind, ...(transport.kind === 'file' ? { mailDir: config.MAIL_DIR } : {}) },
    'mail transport ready',
  );
  let unlisten: () => void = () => {};
  return [
    {
      name: 'email',
      async start() {
        // Loaded (or generated) once outside any transaction, before the first link is written.
        await ctx.secret(runtime.db);
        // Mails queued by other replicas (and this one's consumer, between its flushes) wake the sender too.
        unlisten = ctx.mail.listen(runtime.pool, {
          schema: runtime.schema,
          retryMs: config.MAIL_POLL_MS * 10,
          logger,
        });
        sender.start();
      },
      async stop() {
        await sender.stop();
        unlisten();
      },
    },
  ];
}
