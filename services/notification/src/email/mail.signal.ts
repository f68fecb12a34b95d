import { shouldNotify } from './email.rules.ts';

/**
 * Wakes the mail senders when mails were queued, instead of leaving them to their next poll. A consumer
 * transaction cannot see its own commit, so at most one such transaction per interval carries a NOTIFY
 * (heard after commit by the senders of every replica, this one included); for the ones in between, this
 * process's senders are woken one interval after the latest of them, when it has normally committed. A
 * wake-up that comes too early only costs latency: the sender's poll still finds the mail.
 */
export class MailSignal {
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

  /** Called inside a transaction that queued mails; true if that transaction should NOTIFY. */
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

  /** Mails were committed (by this process, or a NOTIFY arrived): wake the senders now. */
  committed(): void {
    for (const listener of this.#listeners) listener();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #arm(): void {
    if (this.#timer || this.#lastSkippedAt === undefined) return;
    const due = this.#lastSkippedAt + this.#intervalMs;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, due - this.#now()));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    const due = (this.#lastSkippedAt ?? 0) + this.#intervalMs;
    // Another transaction skipped its NOTIFY since the timer was set: wait for that one instead.
    if (due > this.#now()) {
      this.#arm();
      return;
    }
    this.#lastSkippedAt = undefined;
    this.committed();
  }
}
