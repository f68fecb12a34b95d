import { type IndexPlannedDb, quoteIdent } from '@citydeals/db';
import { tracingOn } from '@citydeals/messaging';
import type { Clock, ServiceWorker } from '@citydeals/service-kit';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import type { ThrottledWakeUp } from '../wakeup/throttled-wake-up.ts';
import { type ClaimedMessage, claimDueMessages, DELIVERY_CHANNEL_SUFFIX } from './delivery.repository.ts';
import type { Send, SendResult } from './delivery.sender.ts';
import {
  type DeliveredAttempt,
  type SettlePolicy,
  settleAttempt,
  settleDeliveredBatch,
} from './delivery.service.ts';
import { isSuccessStatus } from './retry.rules.ts';
import type { SecretCipher } from './secret.cipher.ts';
import { signingSecrets } from './secret.rules.ts';
import { signWebhook } from './webhook.signer.ts';
import { traceWebhookSend } from './webhook.tracing.ts';

export interface DeliveryWorkerOptions {
  /** Claims and settlements take bounded batches of the message table by index. */
  db: IndexPlannedDb<Database>;
  /** For LISTEN; without it the worker only polls. */
  pool?: pg.Pool;
  /** Wake-ups from this process's consumer for the transactions that did not NOTIFY. */
  signal?: ThrottledWakeUp;
  schema: string;
  logger: Logger;
  send: Send;
  /** Releases the sender's sockets on stop. */
  closeSender?: () => void;
  cipher: SecretCipher;
  policy: SettlePolicy;
  concurrency: number;
  pollIntervalMs: number;
  attemptTimeoutMs: number;
  orderWaitMs: number;
  clock: Clock;
  newId: () => string;
  random: () => number;
}

export interface DeliveryWorkerStats {
  attempts: number;
  delivered: number;
  failedAttempts: number;
  /** Claiming statements run; attempts / claims is how many each took. */
  claims: number;
  /** Claims that found nothing due (a slot freed while nothing more was waiting). */
  emptyClaims: number;
}

/** Opened endpoint secrets kept; a few endpoints are the usual case. */
const OPENED_SECRETS_LIMIT = 1_000;

/** Successful attempts recorded in one transaction at most. */
const SETTLE_BATCH_LIMIT = 64;
/** How long a success waits at most for the answers still outstanding, to be recorded with them. */
const SETTLE_GATHER_MS = 5;

/**
 * Sends due webhook messages: claims a batch (leased, SKIP LOCKED), signs and POSTs each, and settles the
 * outcome. Several workers, in one process or many, share the table safely; a worker that dies leaves
 * leases that expire, so its messages are sent again (at least once; `webhook-id` lets receivers dedupe).
 *
 * Successes are settled together: those answered together are gathered (see `#startSettling`), and while
 * one settlement transaction commits, the successes that arrive queue for the next, so a busy worker
 * commits once per batch rather than once per message. A message frees its concurrency slot when its
 * answer arrives, so the next messages are claimed and sent while the answered ones are recorded; at most
 * `concurrency` more wait to be recorded (and for their lease), a few settling statements' worth. Failures
 * are settled one by one, as they lock and may disable the endpoint. Claims wait for half the slots to be
 * free (see `#run`).
 */
export class WebhookDeliveryWorker implements ServiceWorker {
  readonly name = 'webhook-delivery';
  readonly stats: DeliveryWorkerStats = {
    attempts: 0,
    delivered: 0,
    failedAttempts: 0,
    claims: 0,
    emptyClaims: 0,
  };
  readonly #o: DeliveryWorkerOptions;
  readonly #inFlight = new Set<Promise<void>>();
  #stopping = false;
  #loop: Promise<void> | undefined;
  #listener: pg.PoolClient | undefined;
  #wake: (() => void) | undefined;
  #woken = false;
  #unsubscribe: (() => void) | undefined;
  #toSettle: { attempt: DeliveredAttempt; done: () => void }[] = [];
  #settling = false;
  /**
   * Attempts waiting for their answer, the slots taken: counted before `#deliver` first awaits, so the claim
   * loop sees the messages it has just started.
   */
  #sending = 0;
  #gatherTimer: NodeJS.Timeout | undefined;
  readonly #openedSecrets = new Map<string, string>();

  constructor(options: DeliveryWorkerOptions) {
    this.#o = options;
  }

  /** Long enough that a live worker always settles first: the attempt timeout bounds every send. */
  get leaseMs(): number {
    return this.#o.attemptTimeoutMs * 2 + 1_000;
  }

  start(): void {
    this.#loop ??= this.#run();
    this.#unsubscribe ??= this.#o.signal?.subscribe(() => this.wake());
    void this.#listen();
  }

  /** Claims nothing more, lets the messages in hand finish and settle, then returns. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#loop;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#listener?.release(true);
    this.#listener = undefined;
    this.#o.closeSender?.();
  }

  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    const { concurrency, logger, pollIntervalMs } = this.#o;
    let lastClaimAt = Number.NEGATIVE_INFINITY;
    let polled = false;
    while (!this.#stopping) {
      // Slots are attempts waiting for an answer; with the answered ones not recorded yet, at most twice that.
      const free = Math.min(concurrency - this.#sending, concurrency * 2 - this.#inFlight.size);
      // A claim costs a round trip however many rows it takes, and under load slots free up one or a few
      // at a time: wait until half of them are free, so a claim takes several. Slots held by a slow
      // endpoint hold new messages back for a poll interval at most. Only free slots are claimed for, so a
      // message never waits in hand for a slot while its lease runs.
      const few = free * 2 < concurrency && !polled && performance.now() - lastClaimAt < pollIntervalMs;
      if (free <= 0 || few) {
        polled = await this.#sleep();
        continue;
      }
      lastClaimAt = performance.now();
      this.stats.claims += 1;
      const leaseToken = this.#o.newId();
      let claimed: ClaimedMessage[] = [];
      try {
        claimed = await claimDueMessages(this.#o.db, {
          limit: free,
          leaseToken,
          leaseMs: this.leaseMs,
          orderWaitMs: this.#o.orderWaitMs,
        });
      } catch (err) {
        logger.error({ err }, 'claiming webhook messages failed; trying again');
      }
      if (claimed.length === 0) this.stats.emptyClaims += 1;
      for (const message of claimed) this.#track(this.#deliver(message, leaseToken));
      // Fewer than asked: nothing more is due now; a wake-up (NOTIFY, a slot freed) or the poll comes next.
      polled = claimed.length < free ? await this.#sleep() : false;
    }
    await Promise.allSettled(this.#inFlight);
  }

  #track(task: Promise<void>): void {
    this.#inFlight.add(task);
    void task.finally(() => {
      this.#inFlight.delete(task);
      this.wake();
    });
  }

  /** Resolves true if the poll interval passed without a wake-up. */
  #sleep(): Promise<boolean> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(true), this.#o.pollIntervalMs);
      const self = this;
      function done(timedOut: boolean) {
        clearTimeout(timer);
        self.#wake = undefined;
        self.#woken = false;
        resolve(timedOut);
      }
      this.#wake = () => done(false);
    });
  }

  async #deliver(message: ClaimedMessage, leaseToken: string): Promise<void> {
    const { clock, logger } = this.#o;
    const startedAt = clock.now();
    const webhookTimestamp = Math.floor(startedAt.getTime() / 1000);
    let result: SendResult;
    try {
      const secrets = signingSecrets(
        {
          secret: this.#openSecret(message.secret, message.endpoint_id),
          previousSecret: message.previous_secret
            ? this.#openSecret(message.previous_secret, message.endpoint_id)
            : null,
          previousSecretExpiresAt: message.previous_secret_expires_at,
        },
        startedAt,
      );
      const headers = signWebhook(message.webhook_id, startedAt, message.payload, secrets);
      this.#sending += 1;
      try {
        const request = { url: message.url, headers: { ...headers }, body: message.payload };
        result =
          message.traceparent && tracingOn()
            ? await traceWebhookSend(message, message.traceparent, request, this.#o.send)
            : await this.#o.send(request);
      } finally {
        this.#sending -= 1;
        this.wake();
      }
    } catch (err) {
      result = { status: null, retryAfter: null, body: null, error: (err as Error).message, durationMs: 0 };
    }
    this.stats.attempts += 1;
    if (result.status !== null && isSuccessStatus(result.status)) {
      await this.#settleDelivered({ message, leaseToken, startedAt, webhookTimestamp, result });
      return;
    }
    // The successes gathered may have waited for this answer.
    this.#startSettling();
    try {
      const decision = await settleAttempt(
        this.#o.db,
        message,
        leaseToken,
        { startedAt, webhookTimestamp, result },
        { clock, newId: this.#o.newId, random: this.#o.random, policy: this.#o.policy },
      );
      if (decision.action === 'delivered') this.stats.delivered += 1;
      else this.stats.failedAttempts += 1;
    } catch (err) {
      // The lease expires and the message is sent again: at least once, never lost.
      logger.error({ err, messageId: message.id }, 'recording a webhook attempt failed');
    }
  }

  /**
   * Opening a sealed secret (AES-GCM) costs CPU, paid for every message of an endpoint otherwise.
   * Keyed by the stored value too, so a rotated secret is opened afresh; bounded by starting over.
   */
  #openSecret(stored: string, endpointId: string): string {
    const key = `${endpointId} ${stored}`;
    let opened = this.#openedSecrets.get(key);
    if (opened === undefined) {
      opened = this.#o.cipher.open(stored, endpointId);
      if (this.#openedSecrets.size >= OPENED_SECRETS_LIMIT) this.#openedSecrets.clear();
      this.#openedSecrets.set(key, opened);
    }
    return opened;
  }

  /** Resolves once the attempt is recorded (or recording it failed and the lease will expire). */
  #settleDelivered(attempt: DeliveredAttempt): Promise<void> {
    return new Promise((done) => {
      this.#toSettle.push({ attempt, done });
      this.#startSettling();
    });
  }

  /**
   * Starts recording the successes queued once no other attempt is still waiting for its answer, or
   * SETTLE_GATHER_MS after the first of them at most: the answers to a claimed batch arrive within a few
   * milliseconds of each other, and recording them in one statement instead of two halves the settling
   * statements and the outbox relay's rounds. A lone message is recorded at once.
   */
  #startSettling(gathered = false): void {
    if (this.#settling || this.#toSettle.length === 0) return;
    if (this.#sending > 0 && !gathered) {
      this.#gatherTimer ??= setTimeout(() => {
        this.#gatherTimer = undefined;
        this.#startSettling(true);
      }, SETTLE_GATHER_MS);
      return;
    }
    clearTimeout(this.#gatherTimer);
    this.#gatherTimer = undefined;
    this.#settling = true;
    void this.#settleQueued();
  }

  async #settleQueued(): Promise<void> {
    const { db, clock, newId, logger } = this.#o;
    while (this.#toSettle.length > 0) {
      const batch = this.#toSettle.splice(0, SETTLE_BATCH_LIMIT);
      try {
        await settleDeliveredBatch(
          db,
          batch.map((b) => b.attempt),
          { clock, newId },
        );
        this.stats.delivered += batch.length;
      } catch (err) {
        // One bad message (or a deadlock with another worker) must not hold back the rest: one by one.
        logger.warn(
          { err, messages: batch.length },
          'recording a batch of webhook attempts failed; one by one',
        );
        for (const { attempt } of batch) {
          try {
            await settleDeliveredBatch(db, [attempt], { clock, newId });
            this.stats.delivered += 1;
          } catch (err) {
            // The lease expires and the message is sent again: at least once, never lost.
            logger.error({ err, messageId: attempt.message.id }, 'recording a webhook attempt failed');
          }
        }
      }
      for (const { done } of batch) done();
    }
    // Cleared with no await after the queue was seen empty, so a success queued meanwhile cannot be missed.
    this.#settling = false;
  }

  async #listen(): Promise<void> {
    const { pool, schema, logger } = this.#o;
    if (!pool || this.#stopping) return;
    try {
      const client = await pool.connect();
      if (this.#stopping) {
        client.release(true);
        return;
      }
      this.#listener = client;
      client.on('notification', () => this.wake());
      client.on('error', (err) => {
        logger.warn({ err }, 'webhook LISTEN connection lost; polling until it is back');
        client.release(true);
        if (this.#listener === client) this.#listener = undefined;
        setTimeout(() => void this.#listen(), this.#o.pollIntervalMs).unref();
      });
      await client.query(`listen ${quoteIdent(`${schema}${DELIVERY_CHANNEL_SUFFIX}`)}`);
    } catch (err) {
      if (this.#stopping) return;
      logger.warn({ err }, 'webhook LISTEN failed; polling until it works');
      setTimeout(() => void this.#listen(), this.#o.pollIntervalMs * 4).unref();
    }
  }
}
