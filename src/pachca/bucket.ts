/**
 * Token-bucket arithmetic (pure: time is an argument) and the small types every permit source
 * shares: the per-class buckets of `RateLimiter`, its token-wide ceiling, and any shared ceiling
 * (a budget several replicas split) that plugs in through `CeilingSource`.
 */
import { DigestError } from '../errors.js';

export type BucketClass = 'messageWrite' | 'messageRead' | 'eventHistory' | 'other';

// ---- pure token-bucket arithmetic ----

/*
 * Why tokens are debited when the answer arrives, not when the request leaves: the server
 * counts a request when it arrives, somewhere between our send and its answer. A request sent
 * early in a burst may be counted late (queued behind others) while a later one is counted
 * at once; a client bucket debited at send time then overruns the server's bucket by that
 * jitter. Debiting at completion (and holding back one token per request in flight) assumes
 * the worst placement of every arrival, so a server enforcing exactly these limits never has
 * reason to answer 429 — at the cost of one round trip of lag after a burst, not of throughput.
 */

export interface BucketState {
  /** Tokens at `updatedAt`, debited for completed requests only (may be fractional). */
  tokens: number;
  updatedAt: number;
  /** Requests sent and not answered yet; each holds one token back. */
  inflight: number;
  /** No request leaves before this (a 429's Retry-After). */
  pausedUntil: number;
}

export function newBucketState(capacity: number, now: number): BucketState {
  return { tokens: capacity, updatedAt: now, inflight: 0, pausedUntil: 0 };
}

export function bucketRefill(s: BucketState, at: number, ratePerMs: number, capacity: number): number {
  if (at <= s.updatedAt) return s.tokens;
  return Math.min(capacity, s.tokens + (at - s.updatedAt) * ratePerMs);
}

/**
 * The earliest time ≥ now at which one more request may leave this bucket; Infinity when a
 * full burst is in flight (an answer must come back first).
 */
export function bucketAvailableAt(s: BucketState, now: number, ratePerMs: number, capacity: number): number {
  if (s.inflight + 1 > capacity) return Infinity;
  const t0 = Math.max(now, s.pausedUntil, s.updatedAt);
  const need = s.inflight + 1 - bucketRefill(s, t0, ratePerMs, capacity);
  if (need <= 1e-9) return t0;
  return t0 + need / ratePerMs;
}

/** A request leaves (the caller checked availability). */
export function bucketTake(s: BucketState): void {
  s.inflight++;
}

/** Its answer (or failure) arrived at `at`: the token is spent now. */
export function bucketRelease(s: BucketState, at: number, ratePerMs: number, capacity: number): void {
  const t = Math.max(at, s.updatedAt);
  s.tokens = bucketRefill(s, t, ratePerMs, capacity) - 1;
  s.updatedAt = t;
  s.inflight = Math.max(0, s.inflight - 1);
}

/**
 * After a 429 the server's view of the bucket is empty: resume at `until` with a single token
 * free (beyond those held by requests in flight), then at the sustained rate — no burst.
 */
export function bucketPause(s: BucketState, until: number, capacity: number): void {
  if (until <= s.pausedUntil) return;
  s.pausedUntil = until;
  s.tokens = Math.min(capacity, s.inflight + 1);
  s.updatedAt = Math.max(s.updatedAt, until);
}

/** A permit taken but never used (the request did not leave): no token is spent. */
export function bucketCancel(s: BucketState): void {
  s.inflight = Math.max(0, s.inflight - 1);
}

/** Permission to send one request; call `release()` once its answer (or failure) is in. */
export interface Permit {
  waitedMs: number;
  /** The answer (or a failure after sending) is in: the token is spent. */
  release(): void;
  /** The request never left (a later gate turned it away): give the token back. */
  cancel?(): void;
}

/**
 * The token-wide budget every request passes after its own bucket. The default is a local token
 * bucket (`RateLimiter`); replicas sharing one token can plug in a shared one (a PostgreSQL-backed
 * budget) without the client changing.
 */
export interface CeilingSource {
  /**
   * `from`: the bucket the request already passed (its chat for a message write). Waiters are
   * served round-robin across `from`, so a fan-out interleaves its chats instead of sending one
   * chat's whole burst back to back at the token rate (the server's per-chat burst may be smaller
   * than ours).
   */
  acquire(signal?: AbortSignal, limits?: AcquireOptions, from?: string): Promise<Permit>;
  /**
   * A 429 the limiter attributes to the token-wide budget: pause it for at least `retryAfterMs`
   * and lower its rate (`sentAt`: when the rejected request left, so one burst of 429s lowers once).
   */
  onRateLimited(retryAfterMs: number, sentAt: number, now: number): void;
  /** Whether the budget is running near its rate, so a 429 may well come from it. */
  busy(now: number): boolean;
}

/** How long a caller is willing to be held by a 429 pause (see `acquire`). */
export interface AcquireOptions {
  /** Fail (BucketPausedError) rather than wait out a pause with more than this left. */
  maxPauseMs?: number;
  /** Fail (BucketPausedError) rather than wait out a pause ending after this time (epoch ms). */
  deadline?: number;
}

/**
 * A request was not sent because its bucket is paused by a 429's Retry-After for longer than
 * the caller may wait. The pause itself stands: nothing is sent on that bucket before it ends.
 */
export class BucketPausedError extends DigestError {
  /** The bucket key (`messageWrite:chat:101`, `other`…). */
  readonly bucket: string;
  readonly bucketClass: BucketClass | 'token';
  /** When the bucket may send again (epoch ms). */
  readonly pausedUntil: number;
  /** Time left of the pause when the caller was turned away. */
  readonly remainingMs: number;
  /** The Retry-After of the 429 that set the pause. */
  readonly retryAfterMs: number;
  /** Which of the caller's limits the pause exceeds. */
  readonly exceeds: 'maxPauseMs' | 'deadline';

  constructor(init: {
    bucket: string;
    bucketClass: BucketClass | 'token';
    pausedUntil: number;
    remainingMs: number;
    retryAfterMs: number;
    exceeds: 'maxPauseMs' | 'deadline';
  }) {
    super(
      'E_DELIVERY',
      `Pachca rate-limit bucket ${init.bucket} is paused by a 429 (Retry-After ${Math.ceil(init.retryAfterMs / 1000)} s) for another ${Math.ceil(init.remainingMs / 1000)} s, longer than this call may wait`,
      {
        hint: `nothing is sent on this bucket before ${new Date(init.pausedUntil).toISOString()}: Pachca may block a token that keeps sending after a 429`,
      },
    );
    this.name = 'BucketPausedError';
    this.bucket = init.bucket;
    this.bucketClass = init.bucketClass;
    this.pausedUntil = init.pausedUntil;
    this.remainingMs = init.remainingMs;
    this.retryAfterMs = init.retryAfterMs;
    this.exceeds = init.exceeds;
  }
}

/** The DigestError for an aborted wait: E_TIMEOUT when the reason was a deadline, else E_ABORTED. */
export function abortError(signal: AbortSignal): DigestError {
  const r: unknown = signal.reason;
  if (r instanceof DigestError) return r;
  const isTimeout = r instanceof Error && (r.name === 'TimeoutError' || (r as { code?: string }).code === 'E_TIMEOUT');
  return isTimeout
    ? new DigestError('E_TIMEOUT', 'Pachca request cancelled: the deadline passed', { cause: r })
    : new DigestError('E_ABORTED', 'Pachca request cancelled', { cause: r });
}

