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

  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.#resolve = undefined;
        resolve();
      }
      this.#resolve = done;
    });
  }
}
