/**
 * The daemon's places for runs: at most `size` execute at once, the rest wait their turn in
 * order. A thousand jobs due in the same minute then queue instead of all holding sources,
 * renders and sockets at once. A waiting run whose signal aborts leaves the queue without
 * running (the caller sees the abort and skips it).
 */
export class RunPool {
  #active = 0;
  #waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  acquire(signal: AbortSignal): Promise<void> {
    if (this.#active < this.size) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const entry = () => {
        signal.removeEventListener('abort', onAbort);
        this.#active++;
        resolve();
      };
      const onAbort = () => {
        const i = this.#waiting.indexOf(entry);
        if (i >= 0) this.#waiting.splice(i, 1);
        // Resolved so the caller sees the abort and skips the run; it counts as a place until released.
        this.#active++;
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(entry);
    });
  }

  /** Every acquire, run or skipped, is released exactly once. */
  release(): void {
    this.#active--;
    const next = this.#waiting.shift();
    if (next) next();
  }
}
