/**
 * The ledger being unreachable (PostgreSQL restarting, a network blip, SQLite locked past busy_timeout) is a state
 * to wait out, not a verdict on the run: the one retry policy for ledger calls. Only errors the drivers raised are
 * retried — a refusal the ledger decided (a pruned slot, a lost claim) is final.
 */
import { isDigestError } from '../errors.js';

const unavailable = new WeakSet<object>();

/** Marks an E_STATE error as "the ledger could not be reached / did not answer" (see shared.ts stateError). */
export function markUnavailable<T extends object>(e: T): T {
  unavailable.add(e);
  return e;
}

export function isLedgerUnavailable(e: unknown): boolean {
  return isDigestError(e) && e.code === 'E_STATE' && unavailable.has(e);
}

export const LEDGER_RETRY = {
  firstDelayMs: 250,
  maxDelayMs: 5_000,
} as const;

export interface LedgerRetryOptions {
  /** Give up (rethrow) once the next attempt would start after this epoch ms. */
  until: number;
  signal?: AbortSignal;
  onRetry?: (err: unknown, delayMs: number, attempt: number) => void;
}

/** Run `op`, retrying while the ledger is unavailable, with exponential backoff, until `until`. */
export async function withLedgerRetry<T>(op: () => Promise<T>, options: LedgerRetryOptions): Promise<T> {
  let delay: number = LEDGER_RETRY.firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (!isLedgerUnavailable(err) || options.signal?.aborted || Date.now() + delay > options.until) throw err;
      options.onRetry?.(err, delay, attempt);
      await sleep(delay, options.signal);
      delay = Math.min(LEDGER_RETRY.maxDelayMs, delay * 2);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
