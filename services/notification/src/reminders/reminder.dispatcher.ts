import type { IndexPlannedDb } from '@citydeals/db';
import type { ServiceWorker } from '@citydeals/service-kit';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import type { EmailContext } from '../email/email.context.ts';
import { type DispatchResult, dispatchDueReminders } from './reminder.service.ts';

/** Looks for due reminders and hands them to the mail queue; any number of replicas may run it. */
export class ReminderDispatcher implements ServiceWorker {
  readonly name = 'reminder-dispatcher';
  readonly stats = { queued: 0, dropped: 0 };
  #stopping = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(
    private readonly db: IndexPlannedDb<Database>,
    private readonly ctx: EmailContext,
    private readonly options: { batchSize: number; pollMs: number },
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.#stopping = false;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
  }

  async runOnce(): Promise<DispatchResult> {
    const result = await dispatchDueReminders(this.db, this.ctx, this.options.batchSize);
    // Committed: this process's senders can take the mails now rather than at their next poll.
    if (result.queued > 0) this.ctx.mail.committed();
    this.stats.queued += result.queued;
    this.stats.dropped += result.dropped;
    return result;
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      let claimed = 0;
      try {
        claimed = (await this.runOnce()).claimed;
      } catch (err) {
        this.logger.error({ err }, 'reminder dispatch failed; trying again');
      }
      if (claimed < this.options.batchSize && !this.#stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
    }
  }
}
