/**
 * Serving one bucket's queue: waiters join it, the pump hands out permits as tokens allow (or sets
 * the timer for the next one), and a permit's release or cancel gives its token back and pumps
 * again. Apart from RateLimiter (limiter.ts), which decides rates, pauses and the breaker: this
 * asks it only for a bucket's rate and capacity at a given moment.
 */
import { abortError, bucketAvailableAt, bucketCancel, bucketRelease, bucketTake, type AcquireOptions, type Permit } from './bucket.js';
import { markServed, nextWaiter, type Bucket, type Waiter } from './limiter-queue.js';

/** What serving a queue reads from its limiter: the clock, and a bucket's rate and capacity now. */
export interface PumpHost {
  now(): number;
  ratePerMs(b: Bucket, now: number): number;
  capacity(b: Bucket, now: number): number;
}

/** Queues a request that cannot leave at once; `from` defers the pick to the end of the turn. */
export function enqueue(b: Bucket, host: PumpHost, now: number, signal?: AbortSignal, limits?: AcquireOptions, from?: string): Promise<Permit> {
  return new Promise<Permit>((resolve, reject) => {
    const w: Waiter = { resolve, reject, enqueuedAt: now, blockedAt: b.blocked, cleanup: () => {}, limits, from };
    if (signal) {
      const onAbort = () => {
        const i = b.queue.indexOf(w);
        if (i >= 0) b.queue.splice(i, 1);
        reject(abortError(signal));
        pump(b, host);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      w.cleanup = () => signal.removeEventListener('abort', onAbort);
    }
    b.queue.push(w);
    if (from === undefined) pump(b, host);
    else if (!b.deferred) {
      // After every promise continuation of this turn (each caller's way here), before any timer.
      b.deferred = true;
      process.nextTick(() => {
        b.deferred = false;
        pump(b, host);
      });
    }
  });
}

export function permit(b: Bucket, host: PumpHost, waitedMs: number): Permit {
  let done = false;
  return {
    waitedMs,
    release: () => {
      if (done) return;
      done = true;
      const now = host.now();
      bucketRelease(b.state, now, host.ratePerMs(b, now), host.capacity(b, now));
      pump(b, host);
    },
    cancel: () => {
      if (done) return;
      done = true;
      bucketCancel(b.state);
      pump(b, host);
    },
  };
}

export function pump(b: Bucket, host: PumpHost): void {
  const now = host.now();
  while (b.queue.length) {
    const at = bucketAvailableAt(b.state, now, host.ratePerMs(b, now), host.capacity(b, now));
    if (at > now) b.blocked++;
    if (at === Infinity) {
      // A full burst is in flight: the next release pumps again.
      if (b.timer) clearTimeout(b.timer);
      b.timer = null;
      return;
    }
    if (at > now) {
      const when = Math.ceil(at);
      if (b.timer && b.timerAt <= when) return;
      if (b.timer) clearTimeout(b.timer);
      b.timerAt = when;
      b.timer = setTimeout(() => {
        b.timer = null;
        pump(b, host);
      }, Math.max(1, when - now));
      return;
    }
    bucketTake(b.state);
    const w = b.queue.splice(nextWaiter(b), 1)[0]!;
    markServed(b, w.from);
    w.cleanup();
    // The deferral to the end of the turn is not a wait: on a loaded machine it can span a
    // millisecond, and reporting it would show pacing where there was none.
    w.resolve(permit(b, host, w.blockedAt === b.blocked ? 0 : now - w.enqueuedAt));
  }
  if (b.timer) {
    clearTimeout(b.timer);
    b.timer = null;
  }
}
