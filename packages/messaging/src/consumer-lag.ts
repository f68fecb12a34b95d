import { consumerFacts, type ServiceName } from '@citydeals/contracts';
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { decideLag, type LagPolicy, type LagState } from './consumer-lag.rules.ts';
import type { Logger } from './logger.ts';
import type { MessagingTables } from './messaging-tables.ts';
import { enqueueEvent } from './outbox.ts';

/** What the watch needs of a consumer: its durable's name and how many events it has not acknowledged. */
export interface WatchedConsumer {
  readonly name: string;
  backlog(): Promise<number>;
}

export interface ConsumerLagWatchOptions<DB extends MessagingTables> {
  service: ServiceName;
  db: Kysely<DB>;
  consumers: () => Iterable<WatchedConsumer>;
  /** Only one replica reports (the relay's leader): every replica sees the same backlog of a durable. */
  isLeader: () => boolean;
  policy: LagPolicy;
  intervalMs: number;
  clock: { now(): Date };
  logger: Logger;
}

/**
 * Looks at each durable consumer's backlog every `intervalMs` and, while `decideLag` says so, announces it
 * as `<service>.consumer.fell_behind` through the outbox, like any other fact of the service.
 */
export class ConsumerLagWatch<DB extends MessagingTables> {
  readonly name = 'consumer-lag-watch';
  readonly #o: ConsumerLagWatchOptions<DB>;
  readonly #behindSince = new Map<string, LagState>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<unknown> = Promise.resolve();
  #stopping = false;

  constructor(options: ConsumerLagWatchOptions<DB>) {
    this.#o = options;
  }

  start(): void {
    this.#stopping = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    await this.#round;
  }

  #schedule(): void {
    if (this.#stopping) return;
    this.#timer = setTimeout(() => {
      this.#round = this.runOnce()
        .catch((err) => this.#o.logger.warn({ err }, 'consumer lag check failed; the next one retries'))
        .finally(() => this.#schedule());
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  /** One check of every consumer; returns the names reported as behind. */
  async runOnce(): Promise<string[]> {
    if (!this.#o.isLeader()) {
      // A replica that is not leading forgets: when it leads again it starts counting afresh.
      this.#behindSince.clear();
      return [];
    }
    const reported: string[] = [];
    const facts = consumerFacts[this.#o.service];
    for (const consumer of this.#o.consumers()) {
      const backlog = await consumer.backlog();
      const now = this.#o.clock.now();
      const decision = decideLag(this.#behindSince.get(consumer.name) ?? null, backlog, now, this.#o.policy);
      this.#behindSince.set(consumer.name, decision.behindSince);
      if (!decision.report) continue;
      await this.#o.db.transaction().execute((trx) =>
        enqueueEvent(trx, facts.fellBehind, {
          id: uuidv7(),
          time: now,
          source: `/${this.#o.service.replaceAll('_', '-')}`,
          subject: consumer.name,
          data: {
            consumer: consumer.name,
            backlog,
            threshold: this.#o.policy.threshold,
            behindSince: decision.behindSince.toISOString(),
            checkedAt: now.toISOString(),
          },
        }),
      );
      reported.push(consumer.name);
    }
    return reported;
  }
}
