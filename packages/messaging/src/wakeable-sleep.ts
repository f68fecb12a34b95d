/**
 * A sleep that a signal can cut short. A signal that arrives while nobody sleeps is remembered, so a
 * notification that lands during work is never lost: the next sleep returns at once.
 */
export class WakeableSleep {
  #pending = false;
  #resolve: (() => void) | undefined;

  wake(): void {
    if (this.#resolve) {
      this.#resolve();
    } else {
      this.#pending = true;
    }
  }

  /** Resolves true when woken, false when the time ran out. */
  sleep(ms: number): Promise<boolean> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), ms);
      const self = this;
      function done(woken: boolean) {
        clearTimeout(timer);
        self.#resolve = undefined;
        resolve(woken);
      }
      this.#resolve = () => done(true);
    });
  }
}
