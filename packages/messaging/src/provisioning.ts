import { setTimeout as delay } from 'node:timers/promises';
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from './logger.ts';
import { DUPLICATE_WINDOW_MS, messagingRetentionDefaults } from './retention.rules.ts';
import { decideAfterFailure, type RetrySchedule } from './retry-schedule.ts';

export class ProvisioningMismatchError extends Error {
  constructor(
    what: string,
    readonly fields: string[],
  ) {
    super(
      `${what}: the NATS server did not keep ${fields.join(', ')} (it may be too old for these settings; ` +
        'NATS 2.9 silently drops fields added in 2.10)',
    );
    this.name = 'ProvisioningMismatchError';
  }
}

/** Fields whose requested value differs from what the server reports back. */
export function fieldsNotKept(requested: object, actual: object): string[] {
  return Object.entries(requested)
    .filter(([key, value]) => !sameValue(value, Reflect.get(actual, key)))
    .map(([key]) => key);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    return Object.entries(a).every(([key, value]) => sameValue(value, Reflect.get(b, key)));
  }
  return a === b;
}

export const streamDefaults = Object.freeze({
  retention: RetentionPolicy.Limits,
  storage: StorageType.File,
  // Postgres (inbox) dedupes for ever; this window only spares consumers most re-published copies.
  duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  max_age: nanos(messagingRetentionDefaults.streamMaxAgeMs),
  num_replicas: 1,
});

/**
 * A stream's bounds. Full by size, it refuses new messages rather than dropping old ones a consumer may not
 * have read yet: the relay's publish then fails and the events wait in the outbox (Postgres) until space
 * frees up. By age it forgets messages older than `maxAgeMs`, which is why the inbox must outlive them
 * (retention.rules.ts).
 */
export function streamLimits(limits: { maxAgeMs: number; maxBytes: number }): Partial<StreamConfig> {
  return { max_age: nanos(limits.maxAgeMs), max_bytes: limits.maxBytes, discard: DiscardPolicy.New };
}

/**
 * How provisioning rides out the server failing to create a store on disk. The server answers that with a
 * fixed sentence ("error creating store for stream") and keeps the cause in its own log; seen once under a
 * full test run, gone on the next try. A cause that stays (a full disk) still fails the start, later.
 */
export const storeFailureRetrySchedule: RetrySchedule = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 2_000,
  maxDeliveries: 6,
});

export interface ProvisioningOptions {
  readonly schedule?: RetrySchedule;
  /** Warned before each retry, so the failure shows in the service's log too. */
  readonly logger?: Logger;
}

/**
 * Creates the stream or brings it to the requested config, then reads it back and fails loudly if the
 * server silently dropped or changed a field.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  requested: Partial<StreamConfig> & { name: string },
  options: ProvisioningOptions = {},
): Promise<StreamInfo> {
  const config = { ...streamDefaults, ...requested };
  let info: StreamInfo;
  try {
    const existing = await jsm.streams.info(config.name);
    info = fieldsNotKept(config, existing.config).length
      ? await jsm.streams.update(config.name, config)
      : existing;
  } catch (err) {
    if (!isNotFound(err)) throw err;
    info = await retryingStoreFailures(() => jsm.streams.add(config), options);
  }
  const readBack = await jsm.streams.info(config.name);
  const lost = fieldsNotKept(config, readBack.config);
  if (lost.length) throw new ProvisioningMismatchError(`stream ${config.name}`, lost);
  return info;
}

export const consumerDefaults = Object.freeze({
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  ack_wait: nanos(30_000),
  // The runner counts deliveries itself and dead-letters; the server must never silently stop redelivering.
  max_deliver: -1,
  max_ack_pending: 1_000,
});

export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  requested: Partial<ConsumerConfig> & { durable_name: string },
  options: ProvisioningOptions = {},
): Promise<ConsumerInfo> {
  const config = { ...consumerDefaults, ...requested };
  let info: ConsumerInfo;
  try {
    const existing = await jsm.consumers.info(stream, config.durable_name);
    info = fieldsNotKept(config, existing.config).length
      ? await jsm.consumers.update(stream, config.durable_name, config)
      : existing;
  } catch (err) {
    if (!isNotFound(err)) throw err;
    info = await retryingStoreFailures(() => jsm.consumers.add(stream, config), options);
  }
  const readBack = await jsm.consumers.info(stream, config.durable_name);
  const lost = fieldsNotKept(config, readBack.config);
  if (lost.length) throw new ProvisioningMismatchError(`consumer ${stream}/${config.durable_name}`, lost);
  return info;
}

function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.status === 404;
}

/** The server could not create the stream's or consumer's files; nothing was registered, so adding again is safe. */
export function isStoreFailure(err: unknown): err is JetStreamApiError {
  return (
    err instanceof JetStreamApiError && err.status === 500 && /^error creating store for /.test(err.message)
  );
}

async function retryingStoreFailures<T>(add: () => Promise<T>, options: ProvisioningOptions): Promise<T> {
  const schedule = options.schedule ?? storeFailureRetrySchedule;
  for (let attempt = 1; ; attempt++) {
    try {
      return await add();
    } catch (err) {
      if (!isStoreFailure(err)) throw err;
      const decision = decideAfterFailure(attempt, schedule);
      if (decision.action === 'dead-letter') throw err;
      options.logger?.warn(
        { err, attempt, delayMs: decision.delayMs },
        'NATS could not create a store; trying again (the NATS server log names the cause)',
      );
      await delay(decision.delayMs);
    }
  }
}
