import type { Logger } from 'pino';
import type { WakeUpSignal } from './queue-signal.ts';

/** One queue table, as a worker sees it: how its due rows are leased, and how a leased batch is worked. */
export interface LeasedQueue<Item> {
  /**
   * Leases up to `limit` due items. The lease keeps every other worker, in this process or another, off
   * the items (FOR UPDATE SKIP LOCKED) and runs out by itself, so the items of a worker that died come back
   * (`leaseDueRows` is the usual form; a queue whose work fits in the leasing transaction may use the row
   * lock itself as the lease).
   */
  lease(limit: number): Promise<readonly Item[]>;
  /**
   * Works the leased items and settles each: done, due again at a later time, or dead. Returns one promise
   * for them all, or one per item; an item holds its place in the worker's capacity until its promise
   * settles. A failure is logged and changes nothing: the lease runs out and the item is worked again.
   */
  work(items: readonly Item[]): Promise<unknown> | Promise<unknown>[];
  /** Resolves when work that outlives the items' promises (a settlement still being written) is done. */
  drain?(): Promise<void>;
  /**
   * Extends the lease of items still in hand (`renewLeases` is the usual form), called every `renewMs`
   * until they are settled: slow work keeps its items, and only a worker that stopped renewing loses them.
   * It tells the queue's own work which items were not renewed, as those must not be worked further.
   */
  renew?(items: readonly Item[]): Promise<void>;
  /**
   * How long until the next item falls due by itself (a retry's time, a lease running out), in the queue's
   * own clock; undefined when none is waiting (`nextDueAt` is the usual form). A worker that found nothing
   * due sleeps until then, or until woken; without it, until its poll interval passes.
   */
  nextDueInMs?(): Promise<number | undefined>;
}

export interface QueueWorkerOptions<Item> {
  name: string;
  queue: LeasedQueue<Item>;
  /** Items held at once, leased and not settled yet. */
  capacity: number;
  /** Most items one lease takes; the capacity when not given. */
  batchSize?: number;
  /**
   * Most leases in hand at once, however few items each took; unbounded when not given. Items that wait in
   * hand for a scarce resource (connections to a server) wait under their lease: bounding the batches keeps
   * that wait short when rows trickle in and every wake-up would lease a few more.
   */
  batches?: number;
  /**
   * A lease costs a round trip however many rows it takes: with fewer slots free than this, the worker
   * waits for more to free up (or for a poll interval since its last lease) before leasing. 1 when not given.
   */
  minLease?: number;
  /**
   * Longest sleep without a wake-up: how soon rows whose wake-up was missed are seen (and, for a queue that
   * cannot tell its next due time, rows that fall due by themselves).
   */
  pollMs: number;
  /**
   * How often the leases of items in hand are renewed (`LeasedQueue.renew`); a fraction of the lease, so
   * that a renewal delayed by a slow database still lands before the lease runs out.
   */
  renewMs?: number;
  /** The one signal that rows were queued; without it the worker only polls. */
  wakeUp?: WakeUpSignal;
  logger: Logger;
  /** While this returns a promise, nothing is leased; the worker waits for it (a downstream outage, say). */
  paused?: () => Promise<void> | undefined;
}

export interface QueueWorkerStats {
  /** Leases done, and how many of them found nothing due (polls and spare wake-ups). */
  leases: number;
  emptyLeases: number;
  /** Leases that failed (the database away, say); the worker sleeps a poll interval after each. */
  failedLeases: number;
  /** Items leased in all. */
  leased: number;
}

/**
 * Runs one queue: leases a batch of due items, hands it to the queue to work and settle, and leases again
 * while batches come back full and capacity is free; otherwise sleeps until its wake-up signal, a freed
 * slot or the poll interval. Items are worked while the next ones are leased, up to `capacity` in hand.
 * Any number of workers, in one process or many, may run the same queue: the lease keeps them apart.
 * `stop()` leases nothing more and returns once every item in hand is settled.
 */
export class QueueWorker<Item> {
  readonly name: string;
  readonly stats: QueueWorkerStats = { leases: 0, emptyLeases: 0, failedLeases: 0, leased: 0 };
  readonly #o: QueueWorkerOptions<Item>;
  readonly #batchSize: number;
  readonly #minLease: number;
  readonly #tasks = new Set<Promise<void>>();
  #inHand = 0;
  #batchesInHand = 0;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;
  /** A wake-up that came while the loop was not asleep: the next sleep returns at once. */
  #woken = false;
  #wakeSleeper: (() => void) | undefined;

  constructor(options: QueueWorkerOptions<Item>) {
    this.#o = options;
    this.name = options.name;
    this.#batchSize = Math.min(options.batchSize ?? options.capacity, options.capacity);
    this.#minLease = Math.min(options.minLease ?? 1, options.capacity);
  }

  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#unsubscribe = this.#o.wakeUp?.subscribe(() => this.wake());
    this.#loop = this.#run();
  }

  /** Leases nothing more, lets the items in hand be worked and settled, then returns. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#loop;
    this.#loop = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await Promise.allSettled([...this.#tasks]);
    await this.#o.queue.drain?.();
  }

  /** Rows may be due: look now, or as soon as the current lease is back. */
  wake(): void {
    this.#woken = true;
    this.#wakeSleeper?.();
  }

  /** One lease of up to a batch, worked and settled before it resolves; how many items it leased. */
  async runOnce(): Promise<number> {
    const limit = Math.min(this.#batchSize, this.#o.capacity - this.#inHand);
    if (limit <= 0) return 0;
    const items = await this.#lease(limit);
    await this.#work(items);
    return items.length;
  }

  async #run(): Promise<void> {
    const { capacity, pollMs, logger } = this.#o;
    let lastLeaseAt = Number.NEGATIVE_INFINITY;
    let polled = false;
    while (!this.#stopping) {
      const hold = this.#o.paused?.();
      if (hold) {
        await hold;
        continue;
      }
      const free = capacity - this.#inHand;
      const few = free < this.#minLease && !polled && performance.now() - lastLeaseAt < pollMs;
      const batchesFull = this.#o.batches !== undefined && this.#batchesInHand >= this.#o.batches;
      if (free <= 0 || few || batchesFull) {
        polled = await this.#sleep();
        continue;
      }
      const limit = Math.min(this.#batchSize, free);
      lastLeaseAt = performance.now();
      let items: readonly Item[] = [];
      try {
        items = await this.#lease(limit);
      } catch (err) {
        this.stats.failedLeases += 1;
        logger.error({ err, queue: this.name }, 'leasing from the queue failed; trying again');
      }
      void this.#work(items);
      // Fewer than asked: nothing more is due now; a wake-up, a freed slot, the next due time or the poll
      // comes next.
      polled = items.length < limit ? await this.#sleep(await this.#untilNextDue()) : false;
    }
  }

  async #lease(limit: number): Promise<readonly Item[]> {
    // This lease sees every row committed before it starts: a wake-up that came before now needs no
    // second look (a commit announces itself only once it is visible).
    this.#woken = false;
    const items = await this.#o.queue.lease(limit);
    this.stats.leases += 1;
    if (items.length === 0) this.stats.emptyLeases += 1;
    this.stats.leased += items.length;
    return items;
  }

  /** Hands the items to the queue; resolves once every one is settled (or its work failed). */
  #work(items: readonly Item[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    this.#inHand += items.length;
    this.#batchesInHand += 1;
    const stopRenewing = this.#keepLeased(items);
    let settled: Promise<unknown>[];
    // One promise for the batch frees every slot at once; one per item frees one each.
    let slots = items.length;
    try {
      const result = this.#o.queue.work(items);
      if (Array.isArray(result)) slots = 1;
      settled = Array.isArray(result) ? result : [result];
    } catch (err) {
      settled = [Promise.reject(err)];
    }
    const tracked = settled.map((promise) => {
      const task = promise.then(
        () => {},
        (err: unknown) => {
          this.#o.logger.error(
            { err, queue: this.name },
            'working leased items failed; their lease runs out',
          );
        },
      );
      const done = task.finally(() => {
        this.#tasks.delete(done);
        this.#inHand -= slots;
        this.wake();
      });
      this.#tasks.add(done);
      return done;
    });
    return Promise.all(tracked)
      .then(stopRenewing)
      .then(() => {
        this.#batchesInHand -= 1;
        this.wake();
      });
  }

  /**
   * Renews the items' leases every `renewMs` while they are in hand, one renewal at a time. Returns the
   * function that stops renewing; it resolves once a renewal under way has ended.
   */
  #keepLeased(items: readonly Item[]): () => Promise<void> {
    const { queue, renewMs, logger } = this.#o;
    if (!queue.renew || renewMs === undefined) return () => Promise.resolve();
    const renewItems = () => queue.renew?.(items) ?? Promise.resolve();
    let stopped = false;
    let renewing: Promise<void> = Promise.resolve();
    const renew = () => {
      renewing = renewItems()
        .catch((err: unknown) => {
          logger.warn({ err, queue: this.name }, 'renewing leases failed; trying again');
        })
        .then(() => {
          if (!stopped) timer = setTimeout(renew, renewMs);
        });
    };
    let timer = setTimeout(renew, renewMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
      return renewing;
    };
  }

  /** How long to sleep when nothing is due: until the next item falls due, at most the poll interval. */
  async #untilNextDue(): Promise<number> {
    const { queue, pollMs, logger } = this.#o;
    if (!queue.nextDueInMs) return pollMs;
    try {
      const ms = await queue.nextDueInMs();
      // Due already (the queue's clock moved on meanwhile): another worker has it, or the next lease will.
      // Looking at once could spin on an item the lease cannot take (held by another worker).
      return ms === undefined || ms <= 0 ? pollMs : Math.min(pollMs, ms);
    } catch (err) {
      logger.warn({ err, queue: this.name }, 'reading the next due time failed; polling');
      return pollMs;
    }
  }

  /** Resolves true if `ms` (the poll interval unless given) passed without a wake-up. */
  #sleep(ms = this.#o.pollMs): Promise<boolean> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const done = (timedOut: boolean) => {
        clearTimeout(timer);
        this.#wakeSleeper = undefined;
        this.#woken = false;
        resolve(timedOut);
      };
      const timer = setTimeout(() => done(true), ms);
      this.#wakeSleeper = () => done(false);
    });
  }
}
