import type { CloudEvent, EventDefinition, EventOf, StreamDefinition } from '@citydeals/contracts';
import type { Transaction } from 'kysely';

export interface DeliveryMeta {
  /** 1 on first delivery. */
  deliveryCount: number;
  streamSequence: number | undefined;
}

export type EventHandler<DB, E = CloudEvent> = (
  trx: Transaction<DB>,
  event: E,
  meta: DeliveryMeta,
) => Promise<void>;

/**
 * Applies several events of one type, in arrival order, with the same effects as calling the single-event
 * handler for each in turn; it exists so a batch can cost a few set-based statements instead of a few per
 * event. Throwing rolls back the whole batch, whose events are then applied one by one.
 */
export type ManyEventsHandler<DB, E = CloudEvent> = (
  trx: Transaction<DB>,
  events: readonly E[],
) => Promise<void>;

export interface HandlerEntry<DB> {
  readonly definition: EventDefinition;
  readonly handler: EventHandler<DB>;
  /** Used in batch mode for runs of consecutive events of this type; `handler` for everything else. */
  readonly handleMany?: ManyEventsHandler<DB> | undefined;
}

/** Pairs an event contract with its handler, so the handler sees the event's own payload type. */
export function on<DB, D extends EventDefinition>(
  definition: D,
  handler: EventHandler<DB, EventOf<D>>,
  handleMany?: ManyEventsHandler<DB, EventOf<D>>,
): HandlerEntry<DB> {
  return {
    definition,
    handler: handler as EventHandler<DB>,
    handleMany: handleMany as ManyEventsHandler<DB> | undefined,
  };
}

export interface ConsumerDefinition<DB> {
  /**
   * Stable durable name: it names the JetStream consumer and keys the inbox. Renaming it makes the
   * consumer start over from the beginning of the stream (the inbox then prevents second effects).
   */
  readonly name: string;
  readonly stream: StreamDefinition;
  /** One subject filter without namespace; NATS 2.9 has no multi-filter consumers. */
  readonly filterSubject?: string;
  readonly handlers: readonly HandlerEntry<DB>[];
  /**
   * Opt-in: apply up to `maxEvents` events in one transaction (one inbox statement, the handlers in arrival
   * order, one commit). An event that finds no batch running goes at once; events that arrive while one
   * runs wait for it (at most `maxWaitMs`) and go together next. Only for handlers that do not
   * assume one event per transaction: locks are held until the whole batch commits, and a batch that fails
   * is rolled back and its events re-run one by one. `inFlight` batches run at once (default 2).
   */
  readonly batch?: BatchOptions;
  /**
   * Called after each commit that applied at least one event, in this process: the moment to wake workers
   * the handlers queued work for, which a handler cannot do itself (its transaction has not committed).
   * It must not throw and must not wait; a wake-up it misses only waits for the workers' poll.
   */
  readonly afterCommit?: () => void;
}

export interface BatchOptions {
  readonly maxEvents: number;
  readonly maxWaitMs: number;
  readonly inFlight?: number;
}

export function defineConsumer<DB>(definition: ConsumerDefinition<DB>): ConsumerDefinition<DB> {
  // NATS refuses durable names with dots or spaces, and the client then stalls rather than failing.
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(definition.name)) {
    throw new Error(
      `consumer name "${definition.name}" may only hold letters, digits, _ and - (NATS durable name)`,
    );
  }
  const { batch } = definition;
  if (
    batch &&
    !(
      Number.isInteger(batch.maxEvents) &&
      batch.maxEvents >= 1 &&
      batch.maxWaitMs >= 0 &&
      (batch.inFlight === undefined || (Number.isInteger(batch.inFlight) && batch.inFlight >= 1))
    )
  ) {
    throw new Error(`consumer ${definition.name}: batch needs maxEvents ≥ 1, maxWaitMs ≥ 0, inFlight ≥ 1`);
  }
  const types = new Set<string>();
  for (const { definition: d } of definition.handlers) {
    if (d.stream !== definition.stream) {
      throw new Error(`consumer ${definition.name} reads ${definition.stream.name} but handles ${d.type}`);
    }
    if (types.has(d.type)) throw new Error(`consumer ${definition.name} handles ${d.type} twice`);
    types.add(d.type);
  }
  return Object.freeze(definition);
}

/** Thrown by a handler for an event that can never succeed: it is dead-lettered at once, not retried. */
export class PermanentEventError extends Error {
  override name = 'PermanentEventError';
}
