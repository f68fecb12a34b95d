import { WEBHOOK_DELIVERIES_PER_EVENT } from '@citydeals/contracts';
import type { IndexPlannedDb } from '@citydeals/db';
import { tracingOn } from '@citydeals/messaging';
import type { Clock, ServiceWorker } from '@citydeals/service-kit';
import { QueueWorker, type WakeUpSignal } from '@citydeals/work-queue';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import type { DirectDeliveries } from './delivery.handoff.ts';
import { type ClaimedMessage, claimDueMessages, nextMessageDueInMs } from './delivery.repository.ts';
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
  /** That messages were queued: by this process's consumer, or by any replica's NOTIFY. */
  wakeUp?: WakeUpSignal;
  /** Starts the feed of `wakeUp` that LISTENs for NOTIFY; returns its stop. Without it, this process only. */
  listen?: () => () => void;
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
  /** The consumer's hand-off of messages leased to this worker as they are queued. */
  direct?: DirectDeliveries | undefined;
}

export interface DeliveryWorkerStats {
  attempts: number;
  delivered: number;
  failedAttempts: number;
  /** Claiming statements run; attempts / claims is how many each took. */
  claims: number;
  /** Claims that found nothing due (a slot freed while nothing more was waiting). */
  emptyClaims: number;
  /** Messages handed over by the consumer, leased as they were queued, so never claimed. */
  handedOver: number;
  /** Handed-over messages that waited half their lease for a slot and were left to be claimed. */
  handedOverExpired: number;
}

/** Opened endpoint secrets kept; a few endpoints are the usual case. */
const OPENED_SECRETS_LIMIT = 1_000;

/**
 * Successful attempts recorded in one transaction at most, as many as one delivered event lists: room for
 * every answer that may wait (see below) at the default concurrency, so what gathered during one commit
 * goes in the next.
 */
const SETTLE_BATCH_LIMIT = WEBHOOK_DELIVERIES_PER_EVENT;
/**
 * Answered attempts per slot of `concurrency` that may wait to be recorded while their slots send the next
 * messages. A settling statement costs a commit however many it records, so while one commits the sending
 * goes on and the answers gather for the next; when the recording falls this far behind, a slot is freed
 * only once its message is recorded. An answer not yet recorded when the process dies is sent again after
 * its lease, with the same webhook-id.
 */
const ANSWERED_UNRECORDED_PER_SLOT = 8;
/** How long a success waits at most for the answers still outstanding, to be recorded with them. */
const SETTLE_GATHER_MS = 5;
/**
 * Messages taken from the consumer per slot of `concurrency`, sent or waiting for a slot; beyond that they
 * are queued in the table and claimed. Enough for a burst of thousands of events to one endpoint to be
 * handed over rather than claimed (a claimed message costs its own claim and update on top of its
 * settlement), while the messages in hand stay a bounded amount of memory. A handed-over message that has
 * waited half its lease is not sent from here (see `#sendHandedOver`), so a slow receiver cannot make them
 * outlive their leases.
 */
const HANDED_OVER_PER_SLOT = 640;

/** A message as leased, with the token of the lease that took it. */
interface LeasedMessage {
  message: ClaimedMessage;
  leaseToken: string;
}

/** A handed-over message, and until when this worker may still start sending it. */
interface HandedOver extends LeasedMessage {
  sendBy: number;
}

/**
 * Sends due webhook messages, run by a QueueWorker: claims a batch (leased, SKIP LOCKED), signs and POSTs
 * each, and settles the outcome. Several workers, in one process or many, share the table safely; a worker
 * that dies leaves leases that expire, so its messages are sent again (at least once; `webhook-id` lets
 * receivers dedupe).
 *
 * Successes are settled together: those answered together are gathered (see `#startSettling`), and while
 * one settlement transaction commits, the successes that arrive queue for the next, so a busy worker
 * commits once per batch rather than once per message. A message frees its slot when its answer arrives,
 * so the next messages are claimed and sent while the answered ones are recorded; at most
 * ANSWERED_UNRECORDED_PER_SLOT × `concurrency` wait to be recorded (beyond that a slot is freed only once its
 * message is recorded), about one settling statement's worth. Failures are settled one by one, as they lock and may disable the endpoint. A claim
 * waits for half the slots to be free (or a poll interval): a claim costs a round trip however many rows it
 * takes, and under load slots free up one or a few at a time. Only free slots are claimed for, so a message
 * never waits in hand for a slot while its lease runs.
 *
 * Messages also arrive without a claim: the consumer inserts them already leased to this worker (as many as
 * `freeSlots()` allows) and hands them over once committed (DirectDeliveries); they are sent through
 * `concurrency` slots of their own and settled exactly as claimed ones, and only what fails goes back to the
 * table for a retry. So under a stream of events a message costs no claim, and the successes of a consumer
 * batch are answered together and recorded in one statement.
 */
export class WebhookDeliveryWorker implements ServiceWorker {
  readonly name = 'webhook-delivery';
  readonly #counts = { attempts: 0, delivered: 0, failedAttempts: 0 };
  readonly #o: DeliveryWorkerOptions;
  readonly #worker: QueueWorker<LeasedMessage>;
  /** Attempts not recorded yet, answered or not: what `stop()` waits for. */
  readonly #unsettled = new Set<Promise<void>>();
  #unlisten: (() => void) | undefined;
  #toSettle: { attempt: DeliveredAttempt; done: () => void }[] = [];
  #settling = false;
  /** Attempts waiting for their answer. */
  #sending = 0;
  #gatherTimer: NodeJS.Timeout | undefined;
  readonly #openedSecrets = new Map<string, string>();
  /** Handed-over messages waiting for one of their slots, and how many of those slots are taken. */
  readonly #handedOver: HandedOver[] = [];
  #handedOverSending = 0;
  #handedOverCount = 0;
  #handedOverExpired = 0;
  #detach: (() => void) | undefined;

  constructor(options: DeliveryWorkerOptions) {
    this.#o = options;
    this.#worker = new QueueWorker<LeasedMessage>({
      name: this.name,
      queue: {
        lease: (limit) => this.#claim(limit),
        work: (leased) => leased.map((m) => this.#deliver(m)),
        drain: () => Promise.allSettled([...this.#unsettled]).then(() => {}),
        nextDueInMs: () => nextMessageDueInMs(options.db),
      },
      capacity: options.concurrency,
      minLease: Math.ceil(options.concurrency / 2),
      pollMs: options.pollIntervalMs,
      wakeUp: options.wakeUp,
      logger: options.logger,
    });
  }

  get stats(): DeliveryWorkerStats {
    const { leases, emptyLeases } = this.#worker.stats;
    return {
      ...this.#counts,
      claims: leases,
      emptyClaims: emptyLeases,
      handedOver: this.#handedOverCount,
      handedOverExpired: this.#handedOverExpired,
    };
  }

  /** Long enough that a live worker always settles first: the attempt timeout bounds every send. */
  get leaseMs(): number {
    return this.#o.attemptTimeoutMs * 2 + 1_000;
  }

  start(): void {
    this.#unlisten ??= this.#o.listen?.();
    this.#detach ??= this.#o.direct?.attach({
      freeSlots: () => this.freeSlots(),
      leaseMs: this.leaseMs,
      deliverLeased: (messages, leaseToken) => this.deliverLeased(messages, leaseToken),
    });
    this.#worker.start();
  }

  /** How many more handed-over messages this worker takes now. */
  freeSlots(): number {
    const room = this.#o.concurrency * HANDED_OVER_PER_SLOT;
    return Math.max(0, room - this.#handedOverSending - this.#handedOver.length);
  }

  /** Sends messages leased to this worker by the consumer, `concurrency` at a time. */
  deliverLeased(messages: readonly ClaimedMessage[], leaseToken: string): void {
    // The lease started before the commit that precedes this call, so half of it from now is within it.
    const sendBy = this.#o.clock.now().getTime() + this.leaseMs / 2;
    for (const message of messages) this.#handedOver.push({ message, leaseToken, sendBy });
    this.#handedOverCount += messages.length;
    this.#sendHandedOver();
  }

  /**
   * Starts the next handed-over messages while slots are free. One that waited past half its lease is
   * dropped from hand, as the mail sender does: its lease runs out and a worker claims it, and an attempt
   * started that late could still be running when that happens.
   */
  #sendHandedOver(): void {
    while (this.#handedOverSending < this.#o.concurrency && this.#handedOver.length > 0) {
      const next = this.#handedOver.shift()!;
      if (this.#o.clock.now().getTime() > next.sendBy) {
        this.#handedOverExpired += 1;
        continue;
      }
      this.#handedOverSending += 1;
      void this.#deliver(next).finally(() => {
        this.#handedOverSending -= 1;
        this.#sendHandedOver();
      });
    }
  }

  /** Claims nothing more and takes no more messages from the consumer, lets those in hand finish and settle. */
  async stop(): Promise<void> {
    this.#detach?.();
    this.#detach = undefined;
    // Those handed over are sent, not left to their lease: they would wait for it to run out.
    while (this.#handedOver.length > 0 || this.#handedOverSending > 0) {
      if (this.#unsettled.size > 0) await Promise.allSettled([...this.#unsettled]);
      else await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await this.#worker.stop();
    this.#unlisten?.();
    this.#unlisten = undefined;
    this.#o.closeSender?.();
  }

  async #claim(limit: number): Promise<LeasedMessage[]> {
    const leaseToken = this.#o.newId();
    const claimed = await claimDueMessages(this.#o.db, {
      limit,
      leaseToken,
      leaseMs: this.leaseMs,
      orderWaitMs: this.#o.orderWaitMs,
    });
    return claimed.map((message) => ({ message, leaseToken }));
  }

  /**
   * Sends and settles one message; resolves when its slot is free: at its answer, or once it is recorded
   * while `concurrency` answered ones already wait to be.
   */
  #deliver({ message, leaseToken }: LeasedMessage): Promise<void> {
    let answered: () => void = () => {};
    const slotFree = new Promise<void>((resolve) => {
      answered = resolve;
    });
    const settled = this.#sendAndSettle(message, leaseToken, () => answered());
    this.#unsettled.add(settled);
    void settled.finally(() => this.#unsettled.delete(settled));
    return Promise.race([
      settled,
      slotFree.then(() =>
        this.#unsettled.size - this.#sending > this.#o.concurrency * ANSWERED_UNRECORDED_PER_SLOT
          ? settled
          : undefined,
      ),
    ]);
  }

  async #sendAndSettle(message: ClaimedMessage, leaseToken: string, answered: () => void): Promise<void> {
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
      }
    } catch (err) {
      result = { status: null, retryAfter: null, body: null, error: (err as Error).message, durationMs: 0 };
    } finally {
      answered();
    }
    this.#counts.attempts += 1;
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
      if (decision.action === 'delivered') this.#counts.delivered += 1;
      else this.#counts.failedAttempts += 1;
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
        this.#counts.delivered += batch.length;
      } catch (err) {
        // One bad message (or a deadlock with another worker) must not hold back the rest: one by one.
        logger.warn(
          { err, messages: batch.length },
          'recording a batch of webhook attempts failed; one by one',
        );
        for (const { attempt } of batch) {
          try {
            await settleDeliveredBatch(db, [attempt], { clock, newId });
            this.#counts.delivered += 1;
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
}
