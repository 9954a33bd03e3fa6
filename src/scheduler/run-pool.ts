/**
 * The daemon's places for runs: at most `size` execute at once, the rest wait their turn in
 * order. A thousand jobs due in the same minute then queue instead of all holding sources,
 * renders and sockets at once. A waiting run is only the function that will start it: its
 * AbortController, promises and listeners are made when it gets a place. Made up front, a
 * thousand of each lived through the whole burst, long enough to be promoted to V8's old space.
 */
export class RunPool {
  #active = 0;
  #waiting: Array<() => Promise<void>> = [];
  #head = 0;
  #idle: Array<() => void> = [];

  constructor(private readonly size: number) {}

  /** Whether anything runs or waits. */
  get busy(): boolean {
    return this.#active > 0 || this.#head < this.#waiting.length;
  }

  /** Start `task` when a place is free. Its failures are its own: a rejection only frees the place. */
  add(task: () => Promise<void>): void {
    this.#waiting.push(task);
    this.#fill();
  }

  /** Resolves once nothing runs or waits. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #fill(): void {
    while (this.#active < this.size && this.#head < this.#waiting.length) {
      const task = this.#waiting[this.#head]!;
      this.#waiting[this.#head++] = undefined as never;
      if (this.#head === this.#waiting.length) {
        this.#waiting = [];
        this.#head = 0;
      }
      this.#active++;
      const release = () => {
        this.#active--;
        this.#fill();
        if (!this.busy) for (const wake of this.#idle.splice(0)) wake();
      };
      task().then(release, release);
    }
  }
}

/** A run that may still be waiting for a place: its AbortController is made when it starts. */
export class RunHandle {
  #controller: AbortController | undefined;
  #early: { reason: unknown } | undefined;

  /** `dropped`: told when the run is cancelled before it started (it no longer counts as running). */
  constructor(private readonly dropped?: () => void) {}

  get aborted(): boolean {
    return this.#early !== undefined || this.#controller?.signal.aborted === true;
  }

  /** The run's signal, aborted already if the run was cancelled while it waited. */
  start(): AbortSignal {
    this.#controller = new AbortController();
    if (this.#early) this.#controller.abort(this.#early.reason);
    return this.#controller.signal;
  }

  abort(reason?: unknown): void {
    if (this.#controller) this.#controller.abort(reason);
    else if (!this.#early) {
      this.#early = { reason };
      this.dropped?.();
    }
  }
}
