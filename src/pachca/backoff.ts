import { abortError } from './limiter.js';

/**
 * Retry timing, pure: "now" and the random source are arguments so tests need no real clock.
 */

/**
 * Exponential backoff with full jitter (AWS architecture blog): a uniformly random delay in
 * [0, min(max, base·2^(attempt-1))]. Full jitter spreads the retries of many clients that failed
 * together instead of moving the stampede a few hundred ms later.
 */
export function backoffDelay(
  attempt: number,
  opts: { baseDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` in milliseconds from `now`: delta-seconds (decimals tolerated) or an HTTP date.
 * When the server sent its own `Date`, an HTTP-date Retry-After is measured from that instead of
 * our clock, so clock skew between us and Pachca cannot make us retry early (Date is truncated
 * to the second, which only ever lengthens the wait). Undefined when absent or unparsable.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number,
  serverDate?: string | string[],
): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  // Only an HTTP date (it names a weekday or month): Date.parse also accepts "-1" and the like.
  const at = /[a-z]/i.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(at)) return undefined;
  const sd = Array.isArray(serverDate) ? serverDate[0] : serverDate;
  const ref = sd ? Date.parse(sd) : NaN;
  const delta = at - (Number.isNaN(ref) ? now : ref);
  return Math.max(0, Math.ceil(delta));
}

/** Waits between attempts; an abort rejects at once with the call's DigestError. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
