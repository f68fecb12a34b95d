import { eventually } from '@citydeals/testkit';
import type { System } from './system.ts';
import {
  type Attempts,
  changeDealOnce,
  createDeal,
  createMeeting,
  type DealChangeOp,
  type RegistrationOp,
  registerOnce,
  subscribeWebhooks,
} from './workload.ts';

export interface LoadOptions {
  registrationWorkers?: number;
  registrationReplicas?: number;
  /**
   * `retry` (default): an operation repeats its request until the service answers (service crashes).
   * `once`: one request per operation; a lost answer or 5xx stays `unknown` until `resolveFromDatabase`,
   * and the worker goes on with a new operation (broker, database and network outages).
   */
  attempts?: Attempts;
  /** Pause of a worker after an operation without a definite answer, so an outage is not a busy loop. */
  pauseAfterFailureMs?: number;
  /** Pause of a worker after every operation: a steady rate rather than as fast as the services answer. */
  pauseBetweenMs?: number;
}

/**
 * A steady load of registrations (several workers, one meeting) and deal changes (one worker per deal, so
 * a lost answer can be resolved by reading the deal back), with a full history of operations.
 */
export class Load {
  readonly registrations: RegistrationOp[] = [];
  readonly dealChanges: DealChangeOp[] = [];
  /** Errors a worker step threw (the worker keeps going); a harness bug if not empty. */
  readonly errors: string[] = [];
  #stopped = false;
  #workers: Promise<void>[] = [];
  readonly options: Required<LoadOptions>;

  constructor(
    readonly system: System,
    readonly meetingId: string,
    readonly dealIds: string[],
    options: LoadOptions = {},
  ) {
    this.options = {
      registrationWorkers: 3,
      registrationReplicas: 1,
      attempts: 'retry',
      pauseAfterFailureMs: 200,
      pauseBetweenMs: 0,
      ...options,
    };
  }

  get done(): number {
    return this.registrations.length + this.dealChanges.length;
  }

  /** Operations finished so far without a definite answer (no answer or a 5xx). */
  get failed(): number {
    return [...this.registrations, ...this.dealChanges].filter(
      (op) => op.answer === 0 || (op.answer ?? 0) >= 500,
    ).length;
  }

  start(): void {
    const { attempts, registrationReplicas } = this.options;
    for (let i = 0; i < this.options.registrationWorkers; i++) {
      this.#workers.push(
        this.#loop(async () => {
          const op = await registerOnce(this.system, this.meetingId, registrationReplicas, attempts);
          this.registrations.push(op);
          return op.outcome !== 'unknown';
        }),
      );
    }
    for (const dealId of this.dealIds) {
      this.#workers.push(
        this.#loop(async () => {
          const op = await changeDealOnce(this.system, dealId, attempts);
          this.dealChanges.push(op);
          return op.outcome !== 'unknown';
        }),
      );
    }
  }

  async #loop(step: () => Promise<boolean>): Promise<void> {
    while (!this.#stopped) {
      let answered = false;
      try {
        answered = await step();
      } catch (err) {
        this.errors.push(String(err));
      }
      if (!answered) await new Promise((r) => setTimeout(r, this.options.pauseAfterFailureMs));
      else if (this.options.pauseBetweenMs)
        await new Promise((r) => setTimeout(r, this.options.pauseBetweenMs));
    }
  }

  /** Operations the service answered as committed so far. */
  get committed(): number {
    return [...this.registrations, ...this.dealChanges].filter((op) => op.outcome === 'committed').length;
  }

  /** Waits until `n` more operations have finished (or, with `of: 'committed'`, were answered as committed). */
  async progress(n: number, timeoutMs = 180_000, of: 'done' | 'committed' = 'done'): Promise<void> {
    const measure = () => (of === 'done' ? this.done : this.committed);
    const target = measure() + n;
    const reached = await eventually(() => measure() >= target, timeoutMs, 50);
    if (!reached) throw new Error(`load made no progress: ${measure()}/${target} ${of}`);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#workers);
  }
}

/** Systems whose webhook endpoint exists: a second one would deliver every event twice. */
const subscribed = new WeakSet<System>();

/**
 * A meeting and three deals of their own, the webhook endpoint subscribed (once per system), everything
 * drained; then a load on them, not yet started. Several rounds may run on one system this way.
 */
export async function prepareLoad(system: System, options: LoadOptions = {}): Promise<Load> {
  const meeting = await createMeeting(system);
  if (!subscribed.has(system)) {
    await subscribeWebhooks(system);
    subscribed.add(system);
  }
  const deals = await Promise.all([1, 2, 3].map(() => createDeal(system)));
  await system.drain();
  return new Load(
    system,
    meeting.id,
    deals.map((d) => d.id),
    options,
  );
}
