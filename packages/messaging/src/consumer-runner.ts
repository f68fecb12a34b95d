import {
  type CloudEvent,
  consumerFacts,
  type EventDefinition,
  envelopeSchema,
  findEventByType,
  type ServiceName,
} from '@citydeals/contracts';
import { prepared } from '@citydeals/db';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { SpanKind } from '@opentelemetry/api';
import { type Kysely, sql, type Transaction } from 'kysely';
import { validate as isUuid, v7 as uuidv7 } from 'uuid';
import {
  type BatchOptions,
  type ConsumerDefinition,
  type DeliveryMeta,
  type HandlerEntry,
  PermanentEventError,
} from './consumer-definition.ts';
import type { Logger } from './logger.ts';
import type { MessagingTables } from './messaging-tables.ts';
import type { Namespace } from './namespace.ts';
import { enqueueEvent } from './outbox.ts';
import { ensureConsumer } from './provisioning.ts';
import { decideAfterFailure, defaultRetrySchedule, type RetrySchedule } from './retry-schedule.ts';
import { consumerAttributes, deliveredContext } from './trace-consume.ts';
import { currentRequestId, inSpan, spanSubject, tracingOn } from './trace-context.ts';

export type Outcome =
  | { kind: 'handled' }
  | { kind: 'duplicate' }
  | { kind: 'ignored' }
  | { kind: 'poison'; error: string; eventId?: string | undefined; eventType?: string | undefined }
  | { kind: 'failed'; error: unknown; permanent: boolean; eventId: string; eventType: string };

export interface ConsumerStats {
  handled: number;
  duplicates: number;
  ignored: number;
  redeliveries: number;
  retried: number;
  deadLettered: number;
}

export interface ConsumerRunnerOptions<DB> {
  db: Kysely<DB>;
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: Namespace;
  logger: Logger;
  definition: ConsumerDefinition<DB>;
  /** Events handled at once; events about the same entity (CloudEvents `subject`) never overlap. */
  concurrency?: number;
  retry?: RetrySchedule;
  /** How long the server waits for an ack before redelivering (a crashed or cut-off consumer's events). */
  ackWaitMs?: number;
  /** Resolves a CloudEvents type to its contract; events of unknown type or version are poison. */
  lookupType?: (type: string) => EventDefinition | undefined;
  /**
   * The service running this consumer: each dead letter is then announced as `<service>.consumer.dead_lettered`
   * in the transaction that records it, so the office hears of it (docs/alerts.md).
   */
  service?: ServiceName;
}

/** A message as pulled, with what the runner needs to order and apply it. */
interface Pulled {
  m: JsMsg;
  raw: string;
  json: unknown;
  key: string;
  meta: DeliveryMeta;
  pulledAt: number;
}

/** An event that passed validation and has a handler. */
interface Checked<DB> {
  id: string;
  type: string;
  event: CloudEvent;
  entry: HandlerEntry<DB>;
}

/**
 * Runs one durable JetStream consumer: validates each event against its contract, applies the handler and
 * records the event in the inbox in one transaction, and acks only after commit. Transient failures are
 * retried with growing delays; poison events are dead-lettered and terminated so the stream keeps flowing.
 * With `batch` in the definition, groups of events share one transaction (see `#applyBatch`).
 */
export class ConsumerRunner<DB extends MessagingTables> {
  readonly stats: ConsumerStats = {
    handled: 0,
    duplicates: 0,
    ignored: 0,
    redeliveries: 0,
    retried: 0,
    deadLettered: 0,
  };
  readonly name: string;
  readonly #o: ConsumerRunnerOptions<DB> & { concurrency: number; retry: RetrySchedule };
  readonly #handlers: Map<string, HandlerEntry<DB>>;
  readonly #lookupType: (type: string) => EventDefinition | undefined;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: ConsumerRunnerOptions<DB>) {
    this.#o = { concurrency: 8, retry: defaultRetrySchedule, ...options };
    this.name = options.definition.name;
    this.#handlers = new Map(options.definition.handlers.map((h) => [h.definition.type, h]));
    this.#lookupType = options.lookupType ?? findEventByType;
  }

  /** Events in the stream this durable has not yet acknowledged: not yet delivered, or delivered and in hand. */
  async backlog(): Promise<number> {
    const { jsm, namespace, definition } = this.#o;
    const info = await jsm.consumers.info(
      namespace.streamName(definition.stream),
      namespace.durable(definition.name),
    );
    return info.num_pending + info.num_ack_pending;
  }

  async start(): Promise<void> {
    const { jsm, js, namespace, definition, concurrency } = this.#o;
    const stream = namespace.streamName(definition.stream);
    const durable = namespace.durable(definition.name);
    await ensureConsumer(
      jsm,
      stream,
      {
        durable_name: durable,
        ...(this.#o.ackWaitMs ? { ack_wait: nanos(this.#o.ackWaitMs) } : {}),
        ...(definition.filterSubject ? { filter_subject: namespace.subject(definition.filterSubject) } : {}),
      },
      { logger: this.#o.logger },
    );
    const consumer = await js.consumers.get(stream, durable);
    const { batch } = definition;
    const inFlightBatches = batch?.inFlight ?? 2;
    this.#messages = await consumer.consume({
      max_messages: Math.max(concurrency * 2, 16, batch ? batch.maxEvents * inFlightBatches * 2 : 0),
    });
    this.#loop = batch
      ? this.#pumpBatches(this.#messages, batch, inFlightBatches)
      : this.#pump(this.#messages);
  }

  /** Stops pulling, lets the events in hand finish and be acked, then returns. */
  async stop(): Promise<void> {
    await this.#messages?.close();
    await this.#loop;
  }

  async #pump(messages: ConsumerMessages): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const tailByEntity = new Map<string, Promise<void>>();
    for await (const m of messages) {
      while (inFlight.size >= this.#o.concurrency) await Promise.race(inFlight);
      const { raw, json, key, meta } = this.#pulled(m);
      const previous = tailByEntity.get(key) ?? Promise.resolve();
      const task = previous.then(() => this.#onMessage(m, raw, json, meta));
      tailByEntity.set(key, task);
      inFlight.add(task);
      void task.finally(() => {
        inFlight.delete(task);
        if (tailByEntity.get(key) === task) tailByEntity.delete(key);
      });
    }
    await Promise.all(inFlight);
  }

  #pulled(m: JsMsg): Pulled {
    const raw = m.string();
    const json = parseJson(raw);
    const meta: DeliveryMeta = { deliveryCount: m.info.deliveryCount, streamSequence: m.info.streamSequence };
    if (meta.deliveryCount > 1) this.stats.redeliveries += 1;
    return { m, raw, json, key: entityKey(json, m.subject), meta, pulledAt: Date.now() };
  }

  /**
   * Batch mode: the pump queues what NATS hands over; `inFlight` workers each take up to `maxEvents` from
   * the head of the queue and apply them together. With no batch running, what is queued goes at once:
   * waiting would only add latency. While one runs, what arrives waits for it to end (at most `maxWaitMs`
   * after the first of them, or until `maxEvents` are queued) and goes together next: group commit, so
   * events arriving one by one under load share transactions instead of each paying for its own. A batch
   * that shares an entity with an earlier batch still running waits for it, so per-entity order holds.
   */
  async #pumpBatches(messages: ConsumerMessages, batch: BatchOptions, inFlight: number): Promise<void> {
    const queue: Pulled[] = [];
    const tailByEntity = new Map<string, Promise<void>>();
    const arrived = new Pulse();
    const taken = new Pulse();
    let closed = false;
    let running = 0;
    // Bounded so that pulled events do not sit in memory until their ack wait runs out.
    const capacity = batch.maxEvents * (inFlight + 1);

    const worker = async () => {
      let lookedAround = false;
      for (;;) {
        if (queue.length === 0) {
          if (closed) return;
          await arrived.wait();
          continue;
        }
        const waitMs = queue[0]!.pulledAt + batch.maxWaitMs - Date.now();
        if (running > 0 && queue.length < batch.maxEvents && !closed && waitMs > 0) {
          await arrived.wait(waitMs);
          continue;
        }
        // Idle: let the rest of what NATS has already handed over (one read holds many messages) reach the
        // queue first; that costs no wait.
        if (running === 0 && !lookedAround && queue.length < batch.maxEvents && !closed) {
          lookedAround = true;
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        lookedAround = false;
        const group = queue.splice(0, batch.maxEvents);
        taken.notify();
        const keys = new Set(group.map((p) => p.key));
        const previous = [...keys].flatMap((k) => tailByEntity.get(k) ?? []);
        const task = Promise.all(previous)
          // Traced, each event is applied in its own span so that what it queues carries its own trace.
          .then(() => (tracingOn() ? this.#applyOneByOne(group) : this.#applyBatch(group)))
          .catch((err: unknown) => {
            // Nothing was acked that was not applied: the server redelivers the rest after its ack wait.
            this.#o.logger.error({ err, consumer: this.name }, 'batch could not be settled');
          });
        for (const k of keys) tailByEntity.set(k, task);
        running += 1;
        await task;
        running -= 1;
        for (const k of keys) if (tailByEntity.get(k) === task) tailByEntity.delete(k);
        // What waited for this batch to end may go now.
        if (queue.length > 0) arrived.notify();
      }
    };
    const workers = Array.from({ length: inFlight }, worker);

    for await (const m of messages) {
      while (queue.length >= capacity) await taken.wait();
      queue.push(this.#pulled(m));
      // Wake idle workers on the first event, and workers waiting for a full batch when it is full.
      if (queue.length === 1 || queue.length >= batch.maxEvents) arrived.notify();
    }
    closed = true;
    arrived.notify();
    await Promise.all(workers);
  }

  async #applyOneByOne(group: Pulled[]): Promise<void> {
    for (const p of group) await this.#onMessage(p.m, p.raw, p.json, p.meta);
  }

  /**
   * Applies a group in one transaction: one inbox insert tells which events are new, their handlers run in
   * arrival order, and everything is acked after the commit. If anything fails, the whole transaction is
   * rolled back and each event goes through the single-event path, so a failing event only affects itself.
   */
  async #applyBatch(group: Pulled[]): Promise<void> {
    const valid: (Checked<DB> & { pulled: Pulled })[] = [];
    for (const pulled of group) {
      const checked = this.#check(pulled.json);
      if (checked.kind === 'valid') {
        valid.push({ ...checked, pulled });
        continue;
      }
      if (checked.kind === 'poison') {
        await this.#deadLetter(pulled.m, pulled.raw, checked.error, checked.eventId, checked.eventType);
      } else {
        pulled.m.ack();
      }
    }
    if (valid.length === 0) return;

    let applied: boolean[];
    try {
      applied = await this.#o.db.transaction().execute(async (trx) => {
        // Arrays, not a list of values, so the text is the same for every batch size and is prepared once.
        const { rows: inserted } = await sql<{ event_id: string }>`${prepared('inbox-batch')}
          insert into inbox (consumer, event_id, event_type)
          select ${this.name}, e.event_id, e.event_type
          from unnest(${valid.map((v) => v.id)}::uuid[], ${valid.map((v) => v.type)}::text[]) as e(event_id, event_type)
          on conflict do nothing
          returning event_id`.execute(trx);
        // Postgres prints uuids in lower case; a second copy of an event in the same batch is a duplicate.
        const fresh = new Set(inserted.map((r) => r.event_id.toLowerCase()));
        const result = valid.map((v) => fresh.delete(v.id.toLowerCase()));
        const toApply = valid.filter((_, i) => result[i]);
        // Consecutive events of one type go to its handleMany together, so arrival order still holds.
        for (let start = 0; start < toApply.length; ) {
          const { entry } = toApply[start]!;
          let end = start + 1;
          if (entry.handleMany) while (end < toApply.length && toApply[end]!.entry === entry) end += 1;
          if (end - start > 1) {
            await entry.handleMany!(
              trx,
              toApply.slice(start, end).map((v) => v.event),
            );
          } else {
            await entry.handler(trx, toApply[start]!.event, toApply[start]!.pulled.meta);
          }
          start = end;
        }
        return result;
      });
    } catch (err) {
      this.#o.logger.warn(
        { err, consumer: this.name, events: valid.length },
        'batch failed; applying its events one by one',
      );
      for (const v of valid) await this.#onMessage(v.pulled.m, v.pulled.raw, v.pulled.json, v.pulled.meta);
      return;
    }
    if (applied.some(Boolean)) this.#afterCommit();
    valid.forEach((v, i) => {
      if (applied[i]) this.stats.handled += 1;
      else this.stats.duplicates += 1;
      v.pulled.m.ack();
    });
  }

  #onMessage(m: JsMsg, raw: string, json: unknown, meta: DeliveryMeta): Promise<void> {
    if (!tracingOn()) return this.#settle(m, raw, json, meta);
    const subject = this.#o.namespace.unprefix(m.subject);
    return inSpan(
      `process ${spanSubject(subject)}`,
      {
        kind: SpanKind.CONSUMER,
        parent: deliveredContext(m, json),
        attributes: consumerAttributes(this.name, subject, json, meta),
      },
      () => this.#settle(m, raw, json, meta),
    );
  }

  async #settle(m: JsMsg, raw: string, json: unknown, meta: DeliveryMeta): Promise<void> {
    const outcome = await this.process(raw, meta, json);
    switch (outcome.kind) {
      case 'handled':
      case 'duplicate':
      case 'ignored':
        m.ack();
        return;
      case 'poison':
        return this.#deadLetter(m, raw, outcome.error, outcome.eventId, outcome.eventType);
      case 'failed': {
        const decision = outcome.permanent
          ? ({ action: 'dead-letter' } as const)
          : decideAfterFailure(meta.deliveryCount, this.#o.retry);
        if (decision.action === 'retry') {
          this.stats.retried += 1;
          this.#o.logger.warn(
            {
              err: outcome.error,
              consumer: this.name,
              eventId: outcome.eventId,
              delayMs: decision.delayMs,
              requestId: currentRequestId(),
            },
            'event handler failed; retrying later',
          );
          m.nak(decision.delayMs);
          return;
        }
        return this.#deadLetter(
          m,
          raw,
          describe(outcome.error),
          outcome.eventId,
          outcome.eventType,
          'handler_failed',
        );
      }
    }
  }

  /**
   * Validates and applies one event. Independent of NATS so a dead-lettered event can be re-run through
   * exactly the same path.
   */
  async process(raw: string, meta: DeliveryMeta, json: unknown = parseJson(raw)): Promise<Outcome> {
    const checked = this.#check(json);
    if (checked.kind !== 'valid') return checked;
    const { id, type, event, entry } = checked;
    try {
      const handled = await this.#o.db.transaction().execute(async (trx) => {
        const inserted = await sql`${prepared('inbox-one')} insert into inbox (consumer, event_id, event_type)
          values (${this.name}, ${id}, ${type}) on conflict do nothing returning event_id`.execute(trx);
        if (inserted.rows.length === 0) return false;
        await entry.handler(trx, event, meta);
        return true;
      });
      if (!handled) {
        this.stats.duplicates += 1;
        return { kind: 'duplicate' };
      }
      this.#afterCommit();
      this.stats.handled += 1;
      return { kind: 'handled' };
    } catch (error) {
      return {
        kind: 'failed',
        error,
        permanent: error instanceof PermanentEventError,
        eventId: id,
        eventType: type,
      };
    }
  }

  #afterCommit(): void {
    try {
      this.#o.definition.afterCommit?.();
    } catch (err) {
      // The events are applied and committed; a failed wake-up must not turn that into a retry.
      this.#o.logger.warn({ err, consumer: this.name }, 'afterCommit hook failed');
    }
  }

  /** Validation shared by both paths: poison and ignored events never reach a transaction. */
  #check(
    json: unknown,
  ): Extract<Outcome, { kind: 'poison' } | { kind: 'ignored' }> | ({ kind: 'valid' } & Checked<DB>) {
    if (json === notJson) return { kind: 'poison', error: 'payload is not JSON' };
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) {
      return { kind: 'poison', error: `not a CloudEvent: ${envelope.error.message}`, eventId: idOf(json) };
    }
    const { id, type } = envelope.data;
    const definition = this.#lookupType(type);
    if (!definition)
      return { kind: 'poison', error: `unknown event type or version ${type}`, eventId: id, eventType: type };
    const entry = this.#handlers.get(type);
    if (!entry) {
      this.stats.ignored += 1;
      return { kind: 'ignored' };
    }
    const parsed = entry.definition.schema.safeParse(json);
    if (!parsed.success) {
      return {
        kind: 'poison',
        error: `breaks the ${type} contract: ${parsed.error.message}`,
        eventId: id,
        eventType: type,
      };
    }
    return { kind: 'valid', id, type, event: parsed.data as CloudEvent, entry };
  }

  async #deadLetter(
    m: JsMsg,
    raw: string,
    error: string,
    eventId?: string,
    eventType?: string,
    reason: 'poison' | 'handler_failed' = 'poison',
  ): Promise<void> {
    const letter = {
      consumer: this.name,
      subject: this.#o.namespace.unprefix(m.subject),
      stream_sequence: m.info.streamSequence,
      event_id: eventId ?? null,
      event_type: eventType ?? null,
      payload: raw,
      error,
      deliveries: m.info.deliveryCount,
    };
    try {
      await this.#o.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{
          id: number;
        }>`insert into dead_letter (consumer, subject, stream_sequence,
            event_id, event_type, payload, error, deliveries)
          values (${letter.consumer}, ${letter.subject}, ${letter.stream_sequence}, ${letter.event_id},
            ${letter.event_type}, ${letter.payload}, ${letter.error}, ${letter.deliveries})
          returning id`.execute(trx);
        await this.#announceDeadLetter(trx, rows[0]!.id, letter, reason);
      });
    } catch (err) {
      // Without its dead-letter row the event would be lost: keep it in the stream and try again later.
      this.#o.logger.error(
        { err, consumer: this.name, eventId },
        'could not dead-letter an event; retrying later',
      );
      m.nak(this.#o.retry.initialDelayMs);
      return;
    }
    this.stats.deadLettered += 1;
    this.#o.logger.error(
      { consumer: this.name, eventId, eventType, error, requestId: currentRequestId() },
      'event dead-lettered',
    );
    // No reason argument: NATS 2.9.10 ignores a term that carries one and keeps redelivering.
    m.term();
  }

  async #announceDeadLetter(
    trx: Transaction<DB>,
    id: number,
    letter: { event_id: string | null; event_type: string | null; deliveries: number },
    reason: 'poison' | 'handler_failed',
  ): Promise<void> {
    const { service } = this.#o;
    if (!service) return;
    const facts = consumerFacts[service];
    // A dead-lettered announcement of a dead letter would announce itself again, without end.
    if (letter.event_type === facts.deadLettered.type) return;
    const now = new Date();
    await enqueueEvent(trx, facts.deadLettered, {
      id: uuidv7(),
      time: now,
      source: `/${service.replaceAll('_', '-')}`,
      subject: this.name,
      data: {
        consumer: this.name,
        deadLetterId: id,
        eventId: letter.event_id && isUuid(letter.event_id) ? letter.event_id : null,
        eventType: letter.event_type?.slice(0, 200) ?? null,
        reason,
        deliveries: Math.max(1, letter.deliveries),
        deadLetteredAt: now.toISOString(),
      },
    });
  }
}

/** Wakes everyone waiting at the moment of `notify()`; a wait may also end after `ms`. */
class Pulse {
  #waiters: (() => void)[] = [];

  wait(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer =
        ms === undefined
          ? undefined
          : setTimeout(() => {
              this.#waiters = this.#waiters.filter((w) => w !== waiter);
              resolve();
            }, ms);
      this.#waiters.push(waiter);
    });
  }

  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

const notJson = Symbol('not JSON');

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return notJson;
  }
}

function entityKey(json: unknown, fallback: string): string {
  const subject = (json as { subject?: unknown } | null)?.subject;
  return typeof subject === 'string' ? subject : fallback;
}

function idOf(json: unknown): string | undefined {
  const id = (json as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
