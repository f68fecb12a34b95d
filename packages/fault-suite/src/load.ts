import { eventually } from '@citydeals/testkit';
import type { System } from './system.ts';
import { changeDealOnce, type DealChangeOp, type RegistrationOp, registerOnce } from './workload.ts';

/**
 * A steady load of registrations (several workers, one meeting) and deal changes (one worker per deal, so
 * a lost answer can be resolved by reading the deal back), with a full history of operations.
 */
export class Load {
  readonly registrations: RegistrationOp[] = [];
  readonly dealChanges: DealChangeOp[] = [];
  #stopped = false;
  #workers: Promise<void>[] = [];

  constructor(
    readonly system: System,
    readonly meetingId: string,
    readonly dealIds: string[],
    readonly registrationWorkers = 3,
    readonly registrationReplicas = 1,
  ) {}

  get done(): number {
    return this.registrations.length + this.dealChanges.length;
  }

  start(): void {
    for (let i = 0; i < this.registrationWorkers; i++) {
      this.#workers.push(
        this.#loop(async () => {
          this.registrations.push(await registerOnce(this.system, this.meetingId, this.registrationReplicas));
        }),
      );
    }
    for (const dealId of this.dealIds) {
      this.#workers.push(
        this.#loop(async () => {
          this.dealChanges.push(await changeDealOnce(this.system, dealId));
        }),
      );
    }
  }

  async #loop(step: () => Promise<void>): Promise<void> {
    while (!this.#stopped) await step();
  }

  /** Waits until `n` more operations have finished. */
  async progress(n: number, timeoutMs = 180_000): Promise<void> {
    const target = this.done + n;
    const reached = await eventually(() => this.done >= target, timeoutMs, 50);
    if (!reached) throw new Error(`load made no progress: ${this.done}/${target}`);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#workers);
  }
}
