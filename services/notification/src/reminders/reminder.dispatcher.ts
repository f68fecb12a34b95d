import type { IndexPlannedDb } from '@citydeals/db';
import type { Clock, ServiceWorker } from '@citydeals/service-kit';
import { QueueWorker } from '@citydeals/work-queue';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import { nextReminderDueAt } from './reminder.repository.ts';
import { type DispatchedReminder, dispatchDueReminders, type ReminderMails } from './reminder.service.ts';

export interface DispatchResult {
  claimed: number;
  queued: number;
  dropped: number;
}

/**
 * Looks for due reminders and hands them to the mail queue; any number of replicas may run it. Reminders
 * fall due as time passes, not because something was queued, so it has no wake-up: it sleeps until the
 * next pending reminder is due, and no longer than its poll interval (a reminder planned meanwhile for an
 * earlier time is found then).
 */
export class ReminderDispatcher implements ServiceWorker {
  readonly name = 'reminder-dispatcher';
  readonly stats = { queued: 0, dropped: 0 };
  readonly #worker: QueueWorker<DispatchedReminder>;

  constructor(
    db: IndexPlannedDb<Database>,
    deps: { clock: Clock; mails: ReminderMails },
    options: { batchSize: number; pollMs: number },
    logger: Logger,
  ) {
    this.#worker = new QueueWorker({
      name: this.name,
      queue: {
        // The dispatching transaction's row lock is the lease: the reminders are taken, their mails queued
        // and the reminders settled before it commits, so what is left to do after it is to count.
        lease: (limit) => dispatchDueReminders(db, deps, limit),
        work: async (dispatched) => {
          const queued = dispatched.filter((r) => r.status === 'queued').length;
          // Committed: this process's senders can take the mails now rather than at their next poll.
          if (queued > 0) deps.mails.committed();
          this.stats.queued += queued;
          this.stats.dropped += dispatched.length - queued;
        },
        nextDueInMs: async () => {
          const now = deps.clock.now();
          const at = await nextReminderDueAt(db, now);
          return at && at.getTime() - now.getTime();
        },
      },
      capacity: options.batchSize,
      pollMs: options.pollMs,
      logger,
    });
  }

  start(): void {
    this.#worker.start();
  }

  stop(): Promise<void> {
    return this.#worker.stop();
  }

  /** Dispatches one batch of due reminders. */
  async runOnce(): Promise<DispatchResult> {
    const { queued, dropped } = this.stats;
    const claimed = await this.#worker.runOnce();
    return { claimed, queued: this.stats.queued - queued, dropped: this.stats.dropped - dropped };
  }
}
