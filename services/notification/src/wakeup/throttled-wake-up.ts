import { shouldNotify, trailingWakeAt } from './wakeup.rules.ts';

/**
 * Wakes workers (mail senders, webhook delivery workers) when a consumer transaction queued work for them,
 * instead of leaving them to their next poll. A transaction cannot see its own commit, so at most one per
 * interval carries a NOTIFY (heard after commit by every replica's workers, this one's included); for the
 * ones in between, this process's workers are woken one interval after the latest of them, when it has
 * normally committed. A wake-up that comes too early, or is missed, only costs latency: the poll still finds
 * the rows.
 */
export class ThrottledWakeUp {
  readonly #listeners = new Set<() => void>();
  readonly #intervalMs: number;
  readonly #now: () => number;
  #lastNotifiedAt: number | undefined;
  #lastSkippedAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(intervalMs: number, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Called inside a transaction that queued work; true if that transaction should NOTIFY. */
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

  /** Work was committed (by this process, or a NOTIFY arrived): wake the workers now. */
  committed(): void {
    for (const listener of this.#listeners) listener();
  }

  /** Calls `listener` at every wake-up; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #arm(): void {
    if (this.#timer) return;
    const due = trailingWakeAt(this.#lastSkippedAt, this.#intervalMs);
    if (due === undefined) return;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, due - this.#now()));
    this.#timer.unref();
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
    this.committed();
  }
}
