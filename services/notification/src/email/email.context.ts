import type { Clock } from '@citydeals/service-kit';
import { QueueChannel, QueueSignal } from '@citydeals/work-queue';
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { unsubscribeSecret } from './email.repository.ts';

/** What the email functions need from outside, injected so tests can fix the clock. */
export interface EmailContext {
  /** The clock of schedules: when reminders are due, when mails expire, leases. May be shifted (demos). */
  clock: Clock;
  /**
   * The real time, never shifted: what mails and the log say about when things happened (the Date header,
   * the calendar's DTSTAMP, sent and failed times).
   */
  wallClock: Clock;
  newId: () => string;
  from: { name: string; address: string; header: string };
  messageIdDomain: string;
  /** Base of unsubscribe links (no trailing slash). */
  publicBaseUrl: string;
  /** The console's address (no trailing slash), for the door QR code in confirmations; null: no QR code. */
  consoleUrl: string | null;
  /** The secret of unsubscribe links and address hashes; loaded once, through `db` the first time. */
  secret(db: Kysely<Database>): Promise<string>;
  /** Tells the mail senders that mails were queued: this process's at once, every replica's by NOTIFY. */
  mail: QueueSignal;
}

/**
 * The mail queue's NOTIFY channel: a producer without the email context (an operational alert) wakes the
 * mail senders of every replica with it once its transaction commits.
 */
export const mailChannel = new QueueChannel('_mail_queued');

/** The mail queue's wake-up; at most one NOTIFY per 20 ms, the transactions in between wake this process. */
export function mailSignal(): QueueSignal {
  return new QueueSignal({ channel: mailChannel, throttleMs: 20 });
}

/** The clock of reminder schedules and mail expiry, shifted by configuration for demos and tests. */
export function emailClock(config: Pick<Config, 'REMINDER_CLOCK_SHIFT_MS'>, base: Clock): Clock {
  const shift = config.REMINDER_CLOCK_SHIFT_MS;
  return shift === 0 ? base : { now: () => new Date(base.now().getTime() + shift) };
}

export function createEmailContext(
  config: Config,
  clock: Clock,
  newId: () => string,
  wallClock: Clock = clock,
): EmailContext {
  const match = /^\s*(?:"?([^"<]*)"?\s*)?<([^>]+)>\s*$/.exec(config.MAIL_FROM);
  const address = match?.[2] ?? config.MAIL_FROM.trim();
  const name = match?.[1]?.trim() || 'City Deals';
  let secret: Promise<string> | undefined;
  return {
    clock,
    wallClock,
    newId,
    from: { name, address, header: config.MAIL_FROM },
    messageIdDomain: config.MAIL_MESSAGE_ID_DOMAIN,
    mail: mailSignal(),
    consoleUrl: config.CONSOLE_URL ? config.CONSOLE_URL.replace(/\/+$/, '') : null,
    publicBaseUrl: (config.PUBLIC_BASE_URL ?? `http://${config.HOST}:${config.PORT}`).replace(/\/+$/, ''),
    secret(db) {
      // Only a value read outside a transaction is kept: a generated one could still be rolled back.
      if (db.isTransaction) return secret ?? unsubscribeSecret(db, config.UNSUBSCRIBE_SECRET);
      secret ??= unsubscribeSecret(db, config.UNSUBSCRIBE_SECRET).catch((err) => {
        secret = undefined;
        throw err;
      });
      return secret;
    },
  };
}
