/**
 * One bucket of the rate limiter as data: its queue of waiters, the round-robin across their
 * sources, the adaptive rate after 429s and the pause check. RateLimiter (limiter.ts) owns the
 * buckets and the timers; the token arithmetic is in bucket.ts.
 */
import { BucketPausedError, newBucketState, type AcquireOptions, type BucketClass, type BucketState, type Permit } from './bucket.js';
import type { AdaptiveSettings } from './defaults.js';

export type AnyClass = BucketClass | 'token';

export interface Waiter {
  resolve: (permit: Permit) => void;
  reject: (e: unknown) => void;
  enqueuedAt: number;
  /** The bucket's `blocked` count when this waiter joined: unchanged at its turn means it never waited for pacing. */
  blockedAt: number;
  cleanup: () => void;
  limits: AcquireOptions | undefined;
  /** The bucket this request passed before this one (ceiling waiters only). */
  from: string | undefined;
}

export interface Bucket {
  key: string;
  cls: AnyClass;
  state: BucketState;
  queue: Waiter[];
  timer: ReturnType<typeof setTimeout> | null;
  timerAt: number;
  /** The Retry-After behind the current pause (for the error of callers turned away). */
  pausedFor: number;
  /** Adaptive rate: the fraction of the configured rate at `factorAt`, recovering from there. */
  factor: number;
  factorAt: number;
  /** When the rate was last lowered: 429s of requests sent before that were already counted. */
  lastCut: number;
  /** Round-robin across waiters' `from`: the pick number at which each was last served. */
  served: Map<string, number>;
  picks: number;
  /** A pump scheduled for the end of the current turn (see RateLimiter's acquire). */
  deferred: boolean;
  /** Times a pump found no token: a waiter that joined after the last one only sat out the turn's deferral. */
  blocked: number;
}

export function newBucket(cls: AnyClass, key: string, capacity: number, now: number): Bucket {
  return {
    key,
    cls,
    state: newBucketState(capacity, now),
    queue: [],
    timer: null,
    timerAt: 0,
    pausedFor: 0,
    factor: 1,
    factorAt: now,
    lastCut: -Infinity,
    served: new Map(),
    picks: 0,
    deferred: false,
    blocked: 0,
  };
}

/** The bucket's adaptive factor now: back towards 1 at `recoveryPerSecond` since the last cut. */
export function adaptiveFactor(b: Bucket, now: number, a: AdaptiveSettings): number {
  if (b.factor >= 1) return 1;
  return Math.min(1, b.factor + (Math.max(0, now - b.factorAt) * a.recoveryPerSecond) / 1000);
}

/** FIFO, except across `from`: the waiter whose source was served longest ago goes first. */
export function nextWaiter(b: Bucket): number {
  if (b.served.size === 0) return 0;
  let best = 0;
  let bestAt = Infinity;
  for (let i = 0; i < b.queue.length; i++) {
    const from = b.queue[i]!.from;
    const at = from === undefined ? -1 : (b.served.get(from) ?? -1);
    if (at < bestAt) {
      best = i;
      bestAt = at;
      if (at < 0) break;
    }
  }
  return best;
}

export function markServed(b: Bucket, from: string | undefined): void {
  if (from === undefined) return;
  // Sources no longer waiting hold no information once the map grows: start the round again.
  if (b.served.size >= 4096) b.served.clear();
  b.served.set(from, ++b.picks);
}

/** The error for a caller whose limits this bucket's current pause exceeds, if it does. */
export function pausedTooLong(b: Bucket, limits: AcquireOptions | undefined, now: number): BucketPausedError | undefined {
  const until = b.state.pausedUntil;
  if (!limits || until <= now) return undefined;
  const remainingMs = until - now;
  let exceeds: BucketPausedError['exceeds'] | undefined;
  if (limits.maxPauseMs !== undefined && remainingMs > limits.maxPauseMs) exceeds = 'maxPauseMs';
  else if (limits.deadline !== undefined && until > limits.deadline) exceeds = 'deadline';
  if (!exceeds) return undefined;
  return new BucketPausedError({
    bucket: b.key,
    bucketClass: b.cls,
    pausedUntil: until,
    remainingMs,
    retryAfterMs: b.pausedFor,
    exceeds,
  });
}
