import { emailFailed, emailSent } from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import { newEventId, type ServiceWorker } from '@citydeals/service-kit';
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import type { EmailContext } from './email.context.ts';
import { claimQueuedEmails, type EmailRow, suppressAddress, updateEmail } from './email.repository.ts';
import { afterAttempt, classifySendError, type SendOutcome, withoutAddress } from './email.rules.ts';
import type { MailTransport } from './mail.transport.ts';
import { addressHash } from './unsubscribe.rules.ts';

export interface SenderOptions {
  batchSize: number;
  /** Batches in flight at once, each in its own transaction. */
  concurrency: number;
  pollMs: number;
  retry: { maxAttempts: number; baseMs: number; maxMs: number };
}

export interface SenderStats {
  sent: number;
  retried: number;
  failed: number;
  expired: number;
}

/**
 * Sends queued mails, each in a transaction of its own: the row is claimed with FOR UPDATE SKIP LOCKED (no
 * other sender, in this process or another replica, can take it), sent, and its outcome and event are
 * committed at once. A crash between the SMTP server's 250 and that commit is the only way a mail goes out
 * twice, so at most one mail per sender loop can repeat, always with the same Message-ID.
 */
export class EmailSender implements ServiceWorker {
  readonly name = 'email-sender';
  readonly stats: SenderStats = { sent: 0, retried: 0, failed: 0, expired: 0 };
  #stopping = false;
  #loops: Promise<void>[] = [];
  #timer: { wake?: (() => void) | undefined } = {};

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ctx: EmailContext,
    private readonly transport: MailTransport,
    private readonly options: SenderOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.#stopping = false;
    this.#loops = Array.from({ length: this.options.concurrency }, () => this.#loop());
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#timer.wake?.();
    await Promise.all(this.#loops);
    this.transport.close();
  }

  /** Sends up to a batch of mails one after the other; returns how many it claimed. */
  async runOnce(): Promise<number> {
    let claimed = 0;
    while (claimed < this.options.batchSize && !this.#stopping) {
      const sentOne = await this.db.transaction().execute(async (trx) => {
        const now = this.ctx.clock.now();
        const [mail] = await claimQueuedEmails(trx, now, 1);
        if (!mail) return false;
        await this.#record(trx, mail, await this.#attempt(mail, now));
        return true;
      });
      if (!sentOne) break;
      claimed += 1;
    }
    return claimed;
  }

  async #attempt(mail: EmailRow, now: Date): Promise<SendOutcome | 'expired'> {
    if (mail.expires_at && now.getTime() >= new Date(mail.expires_at).getTime()) return 'expired';
    try {
      await this.transport.send(mail, this.ctx.from.header);
      return { kind: 'sent' };
    } catch (error) {
      return classifySendError(error);
    }
  }

  async #record(trx: Transaction<Database>, mail: EmailRow, outcome: SendOutcome | 'expired') {
    const now = this.ctx.clock.now();
    if (outcome === 'expired') {
      this.stats.expired += 1;
      await updateEmail(trx, mail.id, { status: 'expired' });
      return;
    }
    const attempts = mail.attempts + 1;
    const version = mail.version + 1;
    const result = afterAttempt(outcome, attempts, this.options.retry);
    const base = {
      emailId: mail.id,
      version,
      kind: mail.kind as never,
      meetingId: mail.meeting_id,
      registrationId: mail.registration_id,
      reminderOffset: mail.reminder_offset,
      messageId: mail.message_id,
      attempts,
    };
    const event = { id: newEventId(), time: now, source: '/notification', subject: mail.id };
    if (result.status === 'sent') {
      this.stats.sent += 1;
      await updateEmail(trx, mail.id, { status: 'sent', attempts, sent_at: now });
      await enqueueEvent(trx, emailSent, { ...event, data: { ...base, sentAt: now.toISOString() } });
      return;
    }
    const failure = outcome as Exclude<SendOutcome, { kind: 'sent' }>;
    const error = withoutAddress(failure.error, mail.recipient);
    if (result.status === 'queued') {
      this.stats.retried += 1;
      await updateEmail(trx, mail.id, {
        attempts,
        last_error: error,
        smtp_code: failure.smtpCode,
        next_attempt_at: new Date(now.getTime() + result.nextAttemptInMs),
      });
      this.logger.warn(
        { emailId: mail.id, attempts, smtpCode: failure.smtpCode },
        'mail deferred; will retry',
      );
      return;
    }
    this.stats.failed += 1;
    if (result.suppress && mail.recipient) {
      await suppressAddress(
        trx,
        addressHash(await this.ctx.secret(trx as unknown as Kysely<Database>), mail.recipient),
        'rejected',
      );
    }
    await updateEmail(trx, mail.id, {
      status: 'failed',
      attempts,
      last_error: error,
      smtp_code: failure.smtpCode,
      failed_at: now,
    });
    await enqueueEvent(trx, emailFailed, {
      ...event,
      data: {
        ...base,
        reason: result.reason,
        smtpCode: failure.smtpCode,
        error,
        suppressed: result.suppress && Boolean(mail.recipient),
        failedAt: now.toISOString(),
      },
    });
    this.logger.warn({ emailId: mail.id, smtpCode: failure.smtpCode, reason: result.reason }, 'mail failed');
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      let claimed = 0;
      try {
        claimed = await this.runOnce();
      } catch (err) {
        this.logger.error({ err }, 'mail sender round failed; trying again');
      }
      if (claimed < this.options.batchSize && !this.#stopping) await this.#sleep(this.options.pollMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.#timer.wake = undefined;
        resolve();
      }
      this.#timer.wake = done;
    });
  }
}
