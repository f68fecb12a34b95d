import { shouldNotify, trailingWakeAt } from './wakeup.rules.ts';

/**
 * Coalesces the wake-ups of delivery workers after messages were queued. At most one consumer transaction
 * per interval carries a NOTIFY (every replica's workers hear it); the transactions in between wake this
 * process's workers one interval after the last of them. A worker that misses a wake-up (a commit slower
 * than the interval, or a replica without a consumer) finds the rows on its next poll: only latency is at
 * stake, never a delivery.
 */
export class DeliverySignal {
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #listeners = new Set<() => void>();
  #lastNotifiedAt: number | undefined;
  #lastSkippedAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(intervalMs: number, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Called by a transaction that queued messages; true if that transaction should NOTIFY. */
  queued(): boolean {
    const now = this.#now();
    if (shouldNotify(this.#lastNotifiedAt, now, this.#intervalMs)) {
      this.#lastNotifiedAt = now;
      return true;
    }
    this.#lastSkippedAt = now;
    this.#arm();
    return false;
  }

  /** Calls `listener` for the trailing wake-ups; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #arm(): void {
    if (this.#timer) return;
    const due = trailingWakeAt(this.#lastSkippedAt, this.#intervalMs);
    if (due === undefined) return;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, due - this.#now()));
  }

  #fire(): void {
    this.#timer = undefined;
    const due = trailingWakeAt(this.#lastSkippedAt, this.#intervalMs);
    // A transaction skipped its NOTIFY since the timer was set: wait one interval after that one instead.
    if (due !== undefined && due > this.#now()) {
      this.#arm();
      return;
    }
    this.#lastSkippedAt = undefined;
    for (const listener of this.#listeners) listener();
  }
}

/** Shared by the consumer and the workers of this process. */
export const deliverySignal = new DeliverySignal(25);
