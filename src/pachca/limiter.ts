/**
 * Client-side pacing for one Pachca token. Token buckets per request class (and per chat for
 * message writes), FIFO queues per bucket, 429 pauses and a circuit breaker.
 *
 * The arithmetic (`bucketAvailableAt`, `bucketTake`, `bucketRefill`) is pure; the `RateLimiter`
 * class adds queues and timers on top, reading time only through the injected `now` and
 * waiting only through the global `setTimeout`, so fake-timer tests drive it completely.
 */
import { createHash } from 'node:crypto';
import { DigestError } from '../errors.js';
import type { DigestEmitter, DigestEvents } from '../events.js';
import { CLIENT_DEFAULTS, type BucketLimit, type RateLimitSettings } from './defaults.js';

export type BucketClass = 'messageWrite' | 'messageRead' | 'eventHistory' | 'other';

/**
 * Pacing runs this fraction under the configured rate: Pachca's limits are approximate and its
 * clock is not ours. Arrival jitter is handled by debiting at completion (below), not by this.
 */
export const DEFAULT_SAFETY_MARGIN = 0.02;

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

// ---- the limiter ----

/** Permission to send one request; call `release()` once its answer (or failure) is in. */
export interface Permit {
  waitedMs: number;
  release(): void;
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
  readonly bucketClass: BucketClass;
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
    bucketClass: BucketClass;
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

interface Waiter {
  resolve: (permit: Permit) => void;
  reject: (e: unknown) => void;
  enqueuedAt: number;
  cleanup: () => void;
  limits: AcquireOptions | undefined;
}

interface Bucket {
  key: string;
  cls: BucketClass;
  state: BucketState;
  queue: Waiter[];
  timer: ReturnType<typeof setTimeout> | null;
  timerAt: number;
  /** The Retry-After behind the current pause (for the error of callers turned away). */
  pausedFor: number;
}

export interface LimiterOptions {
  rateLimits?: Partial<RateLimitSettings>;
  /** Fraction under the configured rates (default DEFAULT_SAFETY_MARGIN). */
  safetyMargin?: number;
  now?: () => number;
}

export interface LimiterSnapshot {
  breaker: 'open' | 'closed';
  consecutive429: number;
  buckets: { key: string; tokens: number; inflight: number; queued: number; pausedUntil: number | null }[];
}

/** Bucket key of a request: the class, plus the chat for message writes. */
export function bucketKey(cls: BucketClass, scope?: string | number): string {
  return cls === 'messageWrite' ? `messageWrite:${scope ?? '?'}` : cls;
}

export function mergeRateLimits(base: RateLimitSettings, over?: Partial<RateLimitSettings>): RateLimitSettings {
  if (!over) return { ...base };
  const pick = (k: 'messageWrite' | 'messageRead' | 'eventHistory' | 'other'): BucketLimit => ({
    ...base[k],
    ...over[k],
  });
  return {
    ...base,
    ...over,
    messageWrite: pick('messageWrite'),
    messageRead: pick('messageRead'),
    eventHistory: pick('eventHistory'),
    other: pick('other'),
  };
}

export class RateLimiter {
  #settings: RateLimitSettings;
  #margin: number;
  readonly now: () => number;
  #buckets = new Map<string, Bucket>();
  #emitters = new Map<DigestEmitter, number>();
  #consecutive429 = 0;
  /** Breaker open until this time (0: closed). */
  #breakerUntil = 0;

  constructor(opts: LimiterOptions = {}) {
    this.#settings = mergeRateLimits(CLIENT_DEFAULTS.rateLimits, opts.rateLimits);
    this.#margin = opts.safetyMargin ?? DEFAULT_SAFETY_MARGIN;
    this.now = opts.now ?? Date.now;
    validate(this.#settings);
  }

  get settings(): RateLimitSettings {
    return this.#settings;
  }

  /** Changes the limits in place (the same token has the same limits, whoever asks). */
  configure(rateLimits: Partial<RateLimitSettings>): void {
    const next = mergeRateLimits(this.#settings, rateLimits);
    validate(next);
    this.#settleAll(this.now());
    this.#settings = next;
    for (const b of this.#buckets.values()) this.#pump(b);
  }

  /** Emitters receiving this token's pause and breaker events (counted: attach twice, detach twice). */
  attach(emitter: DigestEmitter): () => void {
    this.#emitters.set(emitter, (this.#emitters.get(emitter) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.#emitters.get(emitter) ?? 1) - 1;
      if (n <= 0) this.#emitters.delete(emitter);
      else this.#emitters.set(emitter, n);
    };
  }

  #emit<K extends 'pachca:paused' | 'pachca:breaker'>(event: K, payload: DigestEvents[K]): void {
    for (const e of this.#emitters.keys()) e.emit(event, payload);
  }

  breakerOpen(now = this.now()): boolean {
    this.#checkBreaker(now);
    return this.#breakerUntil > 0;
  }

  /** Requests per ms the bucket runs at right now (margin and breaker applied). */
  ratePerMs(cls: BucketClass, now = this.now()): number {
    const slow = this.breakerOpen(now) ? this.#settings.breakerSlowdown : 1;
    return (this.#settings[cls].perSecond * (1 - this.#margin) * slow) / 1000;
  }

  capacity(cls: BucketClass): number {
    return Math.max(1, this.#settings[cls].burst);
  }

  /** Pure query: when could a request of this bucket leave, ignoring the queue ahead of it. */
  availableAt(cls: BucketClass, key: string, now = this.now()): number {
    const b = this.#buckets.get(key);
    if (!b) return now;
    return bucketAvailableAt(b.state, now, this.ratePerMs(cls, now), this.capacity(cls));
  }

  /**
   * Resolves when a request of `key` may be sent. FIFO per bucket; never fails because of
   * pacing, only when `signal` aborts — or, with `limits`, when a 429 pause of the bucket (now,
   * or set while waiting) lasts longer than the caller may wait: it then rejects at once with
   * BucketPausedError instead of holding the caller silently. The pause is never shortened.
   * The permit must be released when the answer is in.
   */
  acquire(cls: BucketClass, key: string, signal?: AbortSignal, limits?: AcquireOptions): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const now = this.now();
    const b = this.#bucket(cls, key, now);
    const tooLong = this.#pausedTooLong(b, limits, now);
    if (tooLong) return Promise.reject(tooLong);
    if (b.queue.length === 0) {
      const rate = this.ratePerMs(cls, now);
      const cap = this.capacity(cls);
      if (bucketAvailableAt(b.state, now, rate, cap) <= now) {
        bucketTake(b.state);
        return Promise.resolve(this.#permit(b, 0));
      }
    }
    return new Promise<Permit>((resolve, reject) => {
      const w: Waiter = { resolve, reject, enqueuedAt: now, cleanup: () => {}, limits };
      if (signal) {
        const onAbort = () => {
          const i = b.queue.indexOf(w);
          if (i >= 0) b.queue.splice(i, 1);
          reject(abortError(signal));
          this.#pump(b);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        w.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      b.queue.push(w);
      this.#pump(b);
    });
  }

  /**
   * A 429 on `key`: pause that bucket until `now + retryAfterMs` — the full Retry-After, however
   * long: Pachca may block a token that keeps sending after a 429. Count towards the breaker.
   * Already queued requests of the bucket wait too; those whose limits the pause exceeds are
   * rejected at once (BucketPausedError). Nothing is sent into a known 429.
   */
  onRateLimited(cls: BucketClass, key: string, retryAfterMs: number, now = this.now()): void {
    const b = this.#bucket(cls, key, now);
    const until = now + Math.max(0, retryAfterMs);
    if (until > b.state.pausedUntil) {
      bucketPause(b.state, until, this.capacity(cls));
      b.pausedFor = Math.max(0, retryAfterMs);
      this.#emit('pachca:paused', { bucket: key, untilMs: until, class: cls });
      for (const w of [...b.queue]) {
        const tooLong = this.#pausedTooLong(b, w.limits, now);
        if (!tooLong) continue;
        b.queue.splice(b.queue.indexOf(w), 1);
        w.cleanup();
        w.reject(tooLong);
      }
    }
    this.#consecutive429++;
    if (this.#consecutive429 >= this.#settings.breakerThreshold) {
      const wasOpen = this.#breakerUntil > 0;
      if (!wasOpen) this.#settleAll(now);
      this.#breakerUntil = now + this.#settings.breakerCooldownMs;
      if (!wasOpen) this.#emit('pachca:breaker', { state: 'open' });
    }
    this.#pump(b);
  }

  /** Any answer other than 429: the run of consecutive 429s is over. */
  onSuccess(): void {
    this.#consecutive429 = 0;
  }

  snapshot(now = this.now()): LimiterSnapshot {
    this.#checkBreaker(now);
    return {
      breaker: this.#breakerUntil > 0 ? 'open' : 'closed',
      consecutive429: this.#consecutive429,
      buckets: [...this.#buckets.values()].map((b) => ({
        key: b.key,
        tokens: bucketRefill(b.state, now, this.ratePerMs(b.cls, now), this.capacity(b.cls)),
        inflight: b.state.inflight,
        queued: b.queue.length,
        pausedUntil: b.state.pausedUntil > now ? b.state.pausedUntil : null,
      })),
    };
  }

  /** Requests waiting in all buckets. */
  get queued(): number {
    let n = 0;
    for (const b of this.#buckets.values()) n += b.queue.length;
    return n;
  }

  /** The error for a caller whose limits this bucket's current pause exceeds, if it does. */
  #pausedTooLong(b: Bucket, limits: AcquireOptions | undefined, now: number): BucketPausedError | undefined {
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

  #checkBreaker(now: number): void {
    if (this.#breakerUntil > 0 && now >= this.#breakerUntil) {
      // Refill at the slow rate up to the moment the breaker closed, then run at full speed.
      this.#settleAll(this.#breakerUntil);
      this.#breakerUntil = 0;
      this.#emit('pachca:breaker', { state: 'closed' });
    }
  }

  /** Brings every bucket's tokens up to `at` at the current rate (before a rate change). */
  #settleAll(at: number): void {
    for (const b of this.#buckets.values()) {
      if (at <= b.state.updatedAt) continue;
      const slow = this.#breakerUntil > 0 ? this.#settings.breakerSlowdown : 1;
      const rate = (this.#settings[b.cls].perSecond * (1 - this.#margin) * slow) / 1000;
      b.state.tokens = bucketRefill(b.state, at, rate, this.capacity(b.cls));
      b.state.updatedAt = at;
    }
  }

  #bucket(cls: BucketClass, key: string, now: number): Bucket {
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= 512) this.#prune(now);
      b = {
        key,
        cls,
        state: newBucketState(this.capacity(cls), now),
        queue: [],
        timer: null,
        timerAt: 0,
        pausedFor: 0,
      };
      this.#buckets.set(key, b);
    }
    return b;
  }

  /** Forgets idle buckets that are full again: they hold no information. */
  #prune(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.queue.length || b.timer || b.state.inflight || b.state.pausedUntil > now) continue;
      if (bucketRefill(b.state, now, this.ratePerMs(b.cls, now), this.capacity(b.cls)) >= this.capacity(b.cls)) {
        this.#buckets.delete(key);
      }
    }
  }

  #permit(b: Bucket, waitedMs: number): Permit {
    let released = false;
    return {
      waitedMs,
      release: () => {
        if (released) return;
        released = true;
        const now = this.now();
        bucketRelease(b.state, now, this.ratePerMs(b.cls, now), this.capacity(b.cls));
        this.#pump(b);
      },
    };
  }

  #pump(b: Bucket): void {
    const now = this.now();
    while (b.queue.length) {
      const rate = this.ratePerMs(b.cls, now);
      const cap = this.capacity(b.cls);
      const at = bucketAvailableAt(b.state, now, rate, cap);
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
          this.#pump(b);
        }, Math.max(1, when - now));
        return;
      }
      bucketTake(b.state);
      const w = b.queue.shift()!;
      w.cleanup();
      w.resolve(this.#permit(b, now - w.enqueuedAt));
    }
    if (b.timer) {
      clearTimeout(b.timer);
      b.timer = null;
    }
  }
}

function validate(s: RateLimitSettings): void {
  for (const k of ['messageWrite', 'messageRead', 'eventHistory', 'other'] as const) {
    const l = s[k];
    if (!(l.perSecond > 0) || !(l.burst >= 1)) {
      throw new DigestError('E_CONFIG', `pachca rate limit ${k} must have perSecond > 0 and burst ≥ 1`, {
        location: { path: `pachca.rateLimits.${k}` },
        hint: `got perSecond=${l.perSecond}, burst=${l.burst}`,
      });
    }
  }
  if (!(s.breakerSlowdown > 0 && s.breakerSlowdown <= 1)) {
    throw new DigestError('E_CONFIG', 'pachca.rateLimits.breakerSlowdown must be in (0, 1]', {
      location: { path: 'pachca.rateLimits.breakerSlowdown' },
    });
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

// ---- one limiter per token, shared by every client in the process ----

const registry = new Map<string, RateLimiter>();

/** Registry key: base URL plus a hash of the token (the token itself is never kept as a key). */
export function limiterKey(baseUrl: string, token: string): string {
  const h = createHash('sha256').update(token).digest('hex').slice(0, 16);
  return `${baseUrl.replace(/\/+$/, '')}#${h}`;
}

/**
 * The process-wide limiter of a token. Later callers passing `rateLimits` reconfigure it: the
 * limits belong to the token, not to a client instance.
 */
export function limiterFor(baseUrl: string, token: string, opts: LimiterOptions = {}): RateLimiter {
  const key = limiterKey(baseUrl, token);
  let l = registry.get(key);
  if (!l) {
    l = new RateLimiter(opts);
    registry.set(key, l);
  } else if (opts.rateLimits) {
    l.configure(opts.rateLimits);
  }
  return l;
}

/** Every token's limiter (for metrics). */
export function allLimiters(): ReadonlyMap<string, RateLimiter> {
  return registry;
}
