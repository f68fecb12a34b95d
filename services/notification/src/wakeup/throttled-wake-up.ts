import { shouldNotify, trailingWakeAt } from './wakeup.rules.ts';

/**
 * Wakes workers (mail senders, webhook delivery workers) when a consumer transaction queued work for them,
 * instead of leaving them to their next poll. A transaction cannot see its own commit, so at most one per
 * interval carries a NOTIFY (heard after commit by every replica's workers, this one's included); for the
 * ones in between, this process's workers are woken one interval after the latest of them, when it has
 * normally committed. Where the code that commits can tell (a consumer's afterCommit), `flush()` wakes this
 * process's workers at once instead. A wake-up that comes too early, or is missed, only costs latency: the
 * poll (or the trailing wake-up) still finds the rows.
 */
export class ThrottledWakeUp {
  readonly #listeners = new Set<() => void>();
  readonly #intervalMs: number;
  readonly #now: () => number;
  #lastNotifiedAt: number | undefined;
  #lastSkippedAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #queuedSinceFlush = false;

  constructor(intervalMs: number, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Called inside a transaction that queued work; true if that transaction should NOTIFY. */
  queued(): boolean {
    this.#queuedSinceFlush = true;
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

  /**
   * A transaction that may have called `queued()` has just committed: wake the workers now if anything was
   * queued since the last flush. With two transactions in flight, the first commit's flush covers both; the
   * second one's rows are then found by the trailing wake-up.
   */
  flush(): void {
    if (!this.#queuedSinceFlush) return;
    this.#queuedSinceFlush = false;
    this.committed();
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
