/**
 * When a transaction that queued work should carry the NOTIFY that wakes the workers of every replica.
 * Postgres serialises the commits of all notifying transactions of a database (it holds a lock from
 * pre-commit until the commit is flushed), so notifying from every transaction caps the producers at one
 * commit flush at a time; one NOTIFY per interval keeps commits grouped.
 */
export function shouldNotify(lastNotifiedAt: number | undefined, now: number, intervalMs: number): boolean {
  // A clock that stepped back must not silence notifications for as long as it stepped.
  return lastNotifiedAt === undefined || now - lastNotifiedAt >= intervalMs || now < lastNotifiedAt;
}

/**
 * When to fire the trailing wake-up for transactions that skipped their NOTIFY: one interval after the
 * latest of them, by which time it has normally committed. Undefined when nothing was skipped.
 */
export function trailingWakeAt(lastSkippedAt: number | undefined, intervalMs: number): number | undefined {
  return lastSkippedAt === undefined ? undefined : lastSkippedAt + intervalMs;
}
