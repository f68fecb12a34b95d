import { setTimeout as delay } from 'node:timers/promises';
import { emailFailed, emailSent } from '@citydeals/contracts';
import type { IndexPlannedDb } from '@citydeals/db';
import { type StatementEvent, statementEvent, tracingOn } from '@citydeals/messaging';
import { newEventId, type ServiceWorker } from '@citydeals/service-kit';
import { QueueWorker, type QueueWorkerStats } from '@citydeals/work-queue';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import type { EmailContext } from './email.context.ts';
import {
  type EmailRow,
  type LeasedEmail,
  leaseQueuedEmails,
  nextMailDueAt,
  recordOutcomes,
  renewMailLeases,
} from './email.repository.ts';
import {
  beforeSending,
  classifySendError,
  leaseAllowsSending,
  type SendOutcome,
  type Settlement,
  settleAttempt,
} from './email.rules.ts';
import { traceSmtpSend } from './mail.tracing.ts';
import type { MailTransport } from './mail.transport.ts';
import { addressHash } from './unsubscribe.rules.ts';

export interface SenderOptions {
  /** Mails leased, sent in parallel and recorded together: one batch. */
  batchSize: number;
  /** Batches in hand at once: at most `concurrency × batchSize` mails are leased and not recorded yet. */
  concurrency: number;
  /** How often the sender looks for due mails without being woken. */
  pollMs: number;
  /**
   * How long a lease holds unless renewed. The sender renews the leases of the mails in hand (every
   * `renewMs`) until their outcomes are recorded, so only a sender that stopped renewing (died, froze)
   * loses its mails, and they go out again after it.
   */
  leaseMs: number;
  /** How often the leases of mails in hand are renewed; a quarter of `leaseMs` when not given. */
  renewMs?: number;
  /**
   * Mails on the wire at once in this process (the SMTP pool's connections). Sends wait here rather than in
   * the transport's own queue, so the lease is checked when a mail really goes out.
   */
  maxInFlight: number;
  retry: { maxAttempts: number; baseMs: number; maxMs: number };
  /**
   * While the SMTP server cannot be reached, how often a new connection is tried. Mails wait meanwhile
   * without using attempts, and go out as soon as one succeeds.
   */
  probeMs: number;
}

export interface SenderStats extends QueueWorkerStats {
  sent: number;
  retried: number;
  failed: number;
  expired: number;
  /** Outcomes not recorded because the lease had run out and another sender had taken the mail. */
  lostLeases: number;
  /** Mails not sent because half their lease had gone by before a connection was free. */
  held: number;
  /**
   * Mails given back to the queue, attempt and place kept: the SMTP server could not be reached, or their
   * lease was half over before a connection was free.
   */
  waited: number;
  /** Times the SMTP server was found unreachable and sending paused until it answered again. */
  outages: number;
}

/**
 * Sends queued mails in leased batches, run by a QueueWorker: a lease takes up to `batchSize` due mails in
 * one statement (no transaction stays open while SMTP works), the batch goes to the pooled transport at
 * once, and every outcome is recorded with its event in one statement. The Message-ID is stored with the
 * mail, so a mail sent again is recognisable as the same one.
 *
 * A mail goes to the SMTP server once unless its sender dies. The sender renews the leases of its mails in
 * hand until their outcomes are recorded, however long the server takes to answer, so no other sender takes
 * them; a mail whose lease this sender could not renew is not put on the wire (another sender may have it),
 * and its late record is fenced off. Only a sender that stopped renewing (crashed or frozen) loses its
 * mails: those between the server's 250 and the record, at most `concurrency × batchSize`, go out again,
 * same Message-ID, once the lease (`leaseMs`) has run out. SMTP cannot do better across a crash: the
 * server's 250 and the record cannot be one step. Woken by `ctx.mail`.
 */
export class EmailSender implements ServiceWorker {
  readonly name = 'email-sender';
  readonly #counts = {
    sent: 0,
    retried: 0,
    failed: 0,
    expired: 0,
    lostLeases: 0,
    held: 0,
    waited: 0,
    outages: 0,
  };
  readonly #worker: QueueWorker<LeasedEmail>;
  #stopping = false;
  #inFlight = 0;
  readonly #waitingForWire: (() => void)[] = [];
  /**
   * Set while the SMTP server cannot be reached; resolves when it answers again. Nothing is leased
   * meanwhile: retrying each mail on its own backoff made a short outage cost minutes after the server was
   * back, and every attempt that met a closed port counted against the mail.
   */
  #outage: Promise<void> | undefined;
  readonly #stopped = new AbortController();

  constructor(
    /** Leases and records take bounded batches of the mail table by index. */
    private readonly db: IndexPlannedDb<Database>,
    private readonly ctx: EmailContext,
    private readonly transport: MailTransport,
    private readonly options: SenderOptions,
    private readonly logger: Logger,
  ) {
    this.#worker = new QueueWorker({
      name: this.name,
      queue: {
        lease: (limit) => this.#lease(limit),
        work: (mails) => this.#sendAndRecord(mails),
        renew: (mails) => this.#renew(mails),
        nextDueInMs: async () => {
          const now = this.ctx.clock.now();
          const at = await nextMailDueAt(this.db, now);
          return at && at.getTime() - now.getTime();
        },
      },
      renewMs: options.renewMs ?? options.leaseMs / 4,
      capacity: options.concurrency * options.batchSize,
      batchSize: options.batchSize,
      // A few small batches, not many: their mails wait for a connection under their lease.
      batches: options.concurrency,
      pollMs: options.pollMs,
      wakeUp: ctx.mail,
      logger,
      paused: () => this.#outage,
    });
  }

  get stats(): SenderStats {
    return { ...this.#counts, ...this.#worker.stats };
  }

  start(): void {
    this.#stopping = false;
    this.#worker.start();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    // Ends the probing first: a worker waiting out an outage then sees it is stopping.
    this.#stopped.abort();
    await this.#worker.stop();
    await this.#outage;
    this.transport.close();
  }

  /** Leases, sends and records one batch; returns how many mails it leased. */
  runOnce(): Promise<number> {
    return this.#worker.runOnce();
  }

  #lease(limit: number): Promise<LeasedEmail[]> {
    const leasedAt = this.ctx.clock.now();
    return leaseQueuedEmails(this.db, leasedAt, limit, new Date(leasedAt.getTime() + this.options.leaseMs));
  }

  /**
   * Extends the leases of mails in hand, whether waiting for a connection, on the wire or waiting for their
   * record. A mail whose lease was not renewed may be another sender's now: it is not sent (see #attempt).
   */
  async #renew(mails: readonly LeasedEmail[]): Promise<void> {
    const leaseUntil = new Date(this.ctx.clock.now().getTime() + this.options.leaseMs);
    const held = await renewMailLeases(this.db, mails, leaseUntil);
    for (const mail of mails) mail.leased_until = held.has(mail.id) ? leaseUntil : null;
  }

  async #sendAndRecord(leased: readonly LeasedEmail[]): Promise<void> {
    const results = await Promise.all(leased.map((mail) => this.#attempt(mail)));
    const now = this.ctx.clock.now();
    const stampedAt = this.ctx.wallClock.now();
    // A mail held back for its lease goes back to the queue at once, attempt and place kept: left under
    // its lease it would wait for the lease to run out, and a backlog drained at the pace of leases.
    this.#counts.held += results.filter((r) => r === 'held').length;
    await this.#record(
      leased,
      leased.map((mail, i) =>
        settleAttempt(
          results[i]!,
          { ...mail, dueAt: new Date(mail.due_at) },
          now,
          this.options.retry,
          stampedAt,
        ),
      ),
      stampedAt,
    );
    if (results.some((r) => typeof r === 'object' && r.kind === 'unreachable')) this.#serverUnreachable();
  }

  #serverUnreachable(): void {
    if (this.#outage || this.#stopping) return;
    this.#counts.outages += 1;
    this.logger.warn('SMTP server unreachable; mails wait for it, keeping their attempts and their order');
    this.#outage = this.#probeUntilReachable().then(() => {
      this.#outage = undefined;
      if (!this.#stopping) this.logger.info('SMTP server reachable again; sending the mails that waited');
    });
  }

  async #probeUntilReachable(): Promise<void> {
    while (!this.#stopping) {
      try {
        await delay(this.options.probeMs, undefined, { signal: this.#stopped.signal });
        await this.transport.probe();
        return;
      } catch {
        // Still unreachable (or stopping): look again after the interval.
      }
    }
  }

  async #attempt(mail: EmailRow): Promise<SendOutcome | 'expired' | 'cancelled' | 'held'> {
    await this.#wire();
    try {
      // The server went away while this mail waited for a connection: no use trying it.
      if (this.#outage) return { kind: 'unreachable', error: 'SMTP server unreachable' };
      const now = this.ctx.clock.now();
      // Expiry is a real instant (a link's end, a meeting's start), so it is judged on the wall clock: a
      // demo's REMINDER_CLOCK_SHIFT_MS brings reminders forward, it must not expire a fresh link.
      const decision = beforeSending(
        { expiresAt: mail.expires_at ? new Date(mail.expires_at) : null, recipient: mail.recipient },
        this.ctx.wallClock.now(),
      );
      if (decision !== 'send') return decision;
      const leasedUntil = mail.leased_until ? new Date(mail.leased_until) : null;
      if (!leaseAllowsSending(leasedUntil, this.options.leaseMs, now)) return 'held';
      if (mail.traceparent && tracingOn()) {
        await traceSmtpSend(mail, mail.traceparent, () => this.transport.send(mail, this.ctx.from));
      } else await this.transport.send(mail, this.ctx.from);
      return { kind: 'sent' };
    } catch (error) {
      return classifySendError(error);
    } finally {
      this.#offWire();
    }
  }

  async #wire(): Promise<void> {
    if (this.#inFlight < this.options.maxInFlight) {
      this.#inFlight += 1;
      return;
    }
    // The slot is handed over by #offWire, so the count stays as it is.
    await new Promise<void>((resolve) => this.#waitingForWire.push(resolve));
  }

  #offWire(): void {
    const next = this.#waitingForWire.shift();
    if (next) next();
    else this.#inFlight -= 1;
  }

  async #record(mails: readonly LeasedEmail[], settlements: readonly Settlement[], now: Date): Promise<void> {
    const secret = settlements.some((s) => s.status === 'failed' && s.suppress)
      ? await this.ctx.secret(this.db)
      : undefined;
    const recorded = await recordOutcomes(
      this.db,
      mails.map((mail, i) => {
        const settlement = settlements[i]!;
        const suppress = settlement.status === 'failed' && settlement.suppress && mail.recipient && secret;
        return {
          id: mail.id,
          attempts: mail.attempts,
          settlement,
          announcement: announcementOf(mail, settlement, now),
          suppressHash: suppress ? addressHash(secret, mail.recipient!) : undefined,
        };
      }),
    );
    for (const [i, mail] of mails.entries()) {
      const settlement = settlements[i]!;
      if (!recorded.has(mail.id)) {
        this.#counts.lostLeases += 1;
        continue;
      }
      switch (settlement.status) {
        case 'expired':
        case 'cancelled':
          this.#counts.expired += 1;
          break;
        case 'sent':
          this.#counts.sent += 1;
          break;
        case 'waiting':
          this.#counts.waited += 1;
          break;
        case 'queued':
          this.#counts.retried += 1;
          this.logger.warn(
            { emailId: mail.id, attempts: mail.attempts, smtpCode: settlement.smtpCode },
            'mail deferred; will retry',
          );
          break;
        case 'failed':
          this.#counts.failed += 1;
          this.logger.warn(
            { emailId: mail.id, smtpCode: settlement.smtpCode, reason: settlement.reason },
            'mail failed',
          );
          break;
      }
    }
  }
}

/** The event that announces a mail's outcome: sent or failed for good; nothing for the others. */
function announcementOf(mail: EmailRow, settlement: Settlement, now: Date): StatementEvent | undefined {
  if (settlement.status !== 'sent' && settlement.status !== 'failed') return undefined;
  const base = {
    emailId: mail.id,
    version: mail.version + 1,
    kind: mail.kind,
    meetingId: mail.meeting_id,
    registrationId: mail.registration_id,
    reminderOffset: mail.reminder_offset,
    messageId: mail.message_id,
    attempts: mail.attempts,
  };
  const event = { id: newEventId(), time: now, source: '/notification', subject: mail.id };
  if (settlement.status === 'sent') {
    return statementEvent(mail.id, emailSent, {
      ...event,
      data: { ...base, sentAt: settlement.sentAt.toISOString() },
    });
  }
  return statementEvent(mail.id, emailFailed, {
    ...event,
    data: {
      ...base,
      reason: settlement.reason,
      smtpCode: settlement.smtpCode,
      error: settlement.error,
      suppressed: settlement.suppress,
      failedAt: settlement.failedAt.toISOString(),
    },
  });
}
