/**
 * Client-side pacing for one Pachca token: a token bucket per request class (per chat for
 * message writes), then the token-wide ceiling every request passes, FIFO queues per bucket,
 * 429 pauses, an adaptive rate per bucket and a circuit breaker.
 *
 * Time is read only through the injected `now` and waited only through the global `setTimeout`,
 * so fake-timer tests drive it completely. The arithmetic lives in bucket.ts, a bucket's queue and
 * adaptive rate in limiter-queue.ts, serving that queue (permits, the pump and its timer) in
 * limiter-pump.ts.
 */
import type { DigestEmitter, DigestEvents } from '../events.js';
import {
  abortError,
  bucketAvailableAt,
  bucketPause,
  bucketRefill,
  bucketTake,
  type AcquireOptions,
  type BucketClass,
  type CeilingSource,
  type Permit,
} from './bucket.js';
import { CLIENT_DEFAULTS, type AdaptiveSettings, type RateLimitSettings } from './defaults.js';
import { mergeRateLimits, validateRateLimits } from './limiter-settings.js';
import { adaptiveFactor, newBucket, pausedTooLong, type AnyClass, type Bucket } from './limiter-queue.js';
import { enqueue, permit, pump, type PumpHost } from './limiter-pump.js';

/**
 * Pacing runs this fraction under the configured rate: Pachca's limits are approximate and its
 * clock is not ours. Arrival jitter is handled by debiting at completion (bucket.ts), not by this.
 */
export const DEFAULT_SAFETY_MARGIN = 0.02;
/** A process using less than this part of the token's ceiling, never waiting for it, is not sending (budget-share.ts). */
const LIGHT_TRAFFIC_SHARE = 0.1;

/** The key of the token-wide ceiling's bucket (in snapshots and pause events). */
export const TOKEN_BUCKET = 'token';

export interface LimiterOptions {
  rateLimits?: Partial<RateLimitSettings>;
  /** Fraction under the configured rates (default DEFAULT_SAFETY_MARGIN). */
  safetyMargin?: number;
  now?: () => number;
  /**
   * The token-wide budget (default: a local bucket at `rateLimits.token`). A shared source lets
   * several processes of one token split its ~50 req/s.
   */
  ceiling?: CeilingSource;
}

export interface LimiterSnapshot {
  breaker: 'open' | 'closed';
  consecutive429: number;
  buckets: {
    key: string;
    tokens: number;
    inflight: number;
    queued: number;
    pausedUntil: number | null;
    /** Fraction of the configured rate the bucket runs at (lowered by 429s, recovering). */
    rateFactor: number;
  }[];
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
  readonly ceiling: CeilingSource;
  /** What serving a bucket's queue (limiter-pump.ts) asks of this limiter. */
  readonly #host: PumpHost = {
    now: () => this.now(),
    ratePerMs: (b, now) => this.ratePerMs(b.cls, now, b.key),
    capacity: (b, now) => this.capacity(b.cls, b.key, now),
  };

  constructor(opts: LimiterOptions = {}) {
    this.#settings = mergeRateLimits(CLIENT_DEFAULTS.rateLimits, opts.rateLimits);
    this.#margin = opts.safetyMargin ?? DEFAULT_SAFETY_MARGIN;
    this.now = opts.now ?? Date.now;
    this.#activitySince = this.now();
    validateRateLimits(this.#settings);
    this.ceiling = opts.ceiling ?? this.#localCeiling();
  }

  get settings(): RateLimitSettings {
    return this.#settings;
  }

  /** Changes the limits in place (the same token has the same limits, whoever asks). */
  configure(rateLimits: Partial<RateLimitSettings>): void {
    const next = mergeRateLimits(this.#settings, rateLimits);
    validateRateLimits(next);
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

  /** Requests per ms a bucket runs at right now (margin, breaker and its adaptive factor applied). */
  ratePerMs(cls: AnyClass, now = this.now(), key?: string): number {
    const slow = this.breakerOpen(now) ? this.#settings.breakerSlowdown : 1;
    return this.#rate(cls, key !== undefined ? this.#buckets.get(key) : undefined, now, slow);
  }

  /** A bucket's capacity; a lowered rate lowers the burst with it (a smaller server burst). */
  capacity(cls: AnyClass, key?: string, now = this.now()): number {
    const f = this.#scale(cls, key !== undefined ? this.#buckets.get(key) : undefined, now);
    return Math.max(1, Math.floor(this.#settings[cls].burst * f));
  }

  /**
   * The one rate formula, with the breaker's slowdown given: settling buckets when the breaker
   * opens or closes needs the rate on one side of that change, which ratePerMs would move.
   */
  #rate(cls: AnyClass, b: Bucket | undefined, now: number, slow: number): number {
    return (this.#settings[cls].perSecond * (1 - this.#margin) * slow * this.#scale(cls, b, now)) / 1000;
  }

  /** What lowers a bucket below its configured rate and burst: its adaptive factor and, for the token-wide bucket, this replica's share. */
  #scale(cls: AnyClass, b: Bucket | undefined, now: number): number {
    return (b ? this.#factor(b, now) : 1) * (cls === 'token' ? this.#tokenShare : 1);
  }

  /** This process's part of the token-wide budget (1: all of it); replicas sending at once split it. */
  #tokenShare = 1;
  /** Requests that passed the token-wide budget since `takeTokenActivity()` last asked… */
  #tokenActivity = 0;
  /** …how many of them found the budget spent (they had to wait for it)… */
  #tokenContended = 0;
  /** …and since when. */
  #activitySince = 0;

  get tokenShare(): number {
    return this.#tokenShare;
  }

  setTokenShare(share: number): void {
    if (!(share > 0 && share <= 1)) throw new RangeError(`token share must be in (0, 1], got ${share}`);
    this.#tokenShare = share;
  }

  /**
   * Whether this process competes for the token since the last call: its requests found its share
   * spent, requests wait for the token, or it used more than a tenth of the ceiling. A replica
   * that only polls (a few event-history reads a second) is not sending: counted as such, it would
   * halve the share of the one replica that is.
   */
  takeTokenActivity(now = this.now()): boolean {
    const seconds = Math.max(0.001, (now - this.#activitySince) / 1000);
    const heavy = this.#tokenActivity / seconds > LIGHT_TRAFFIC_SHARE * this.#settings.token.perSecond;
    const waiting = (this.#buckets.get(TOKEN_BUCKET)?.queue.length ?? 0) > 0;
    const active = this.#tokenContended > 0 || waiting || heavy;
    this.#tokenActivity = 0;
    this.#tokenContended = 0;
    this.#activitySince = now;
    return active;
  }

  /** Pure query: when could a request of this bucket leave, ignoring the queue ahead of it. */
  availableAt(cls: AnyClass, key: string, now = this.now()): number {
    const b = this.#buckets.get(key);
    if (!b) return now;
    return bucketAvailableAt(b.state, now, this.ratePerMs(cls, now, key), this.capacity(cls, key, now));
  }

  /**
   * Resolves when a request may be sent: first its own bucket (`key`, FIFO), then the token-wide
   * ceiling. Never fails because of pacing, only when `signal` aborts — or, with `limits`, when
   * a 429 pause of either (now, or set while waiting) lasts longer than the caller may wait: it
   * then rejects at once with BucketPausedError instead of holding the caller silently. The
   * permit must be released when the answer is in.
   */
  async acquire(cls: BucketClass, key: string, signal?: AbortSignal, limits?: AcquireOptions): Promise<Permit> {
    const own = await this.#acquireBucket(cls, key, signal, limits);
    let top: Permit;
    try {
      top = await this.ceiling.acquire(signal, limits, key);
    } catch (e) {
      own.cancel?.();
      throw e;
    }
    return {
      waitedMs: own.waitedMs + top.waitedMs,
      release: () => {
        own.release();
        top.release();
      },
      cancel: () => {
        own.cancel?.();
        top.cancel?.();
      },
    };
  }

  /**
   * A 429 on `key`: pause that bucket until `now + retryAfterMs` — the full Retry-After, however
   * long: Pachca may block a token that keeps sending after a 429 — and lower its rate (once per
   * burst: a 429 of a request sent before the last cut is not counted again). When the ceiling
   * was running near its rate, the 429 may as well be the token-wide limit's: the ceiling pauses
   * and slows down too. Queued requests whose limits the pause exceeds are rejected at once.
   */
  onRateLimited(cls: BucketClass, key: string, retryAfterMs: number, now = this.now(), sentAt = now): void {
    const b = this.#bucket(cls, key, now);
    this.#cut(b, sentAt, now);
    this.#pause(b, retryAfterMs, now);
    if (this.ceiling.busy(now)) this.ceiling.onRateLimited(retryAfterMs, sentAt, now);
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
        tokens: bucketRefill(b.state, now, this.ratePerMs(b.cls, now, b.key), this.capacity(b.cls, b.key, now)),
        inflight: b.state.inflight,
        queued: b.queue.length,
        pausedUntil: b.state.pausedUntil > now ? b.state.pausedUntil : null,
        rateFactor: this.#factor(b, now),
      })),
    };
  }

  /** Requests waiting in all buckets. */
  get queued(): number {
    let n = 0;
    for (const b of this.#buckets.values()) n += b.queue.length;
    return n;
  }

  /** The default ceiling: one more bucket of this limiter, keyed TOKEN_BUCKET. */
  #localCeiling(): CeilingSource {
    return {
      acquire: (signal, limits, from) => {
        this.#tokenActivity++;
        const now = this.now();
        if (this.availableAt('token', TOKEN_BUCKET, now) > now) this.#tokenContended++;
        return this.#acquireBucket('token', TOKEN_BUCKET, signal, limits, from);
      },
      onRateLimited: (retryAfterMs, sentAt, now) => {
        const b = this.#bucket('token', TOKEN_BUCKET, now);
        this.#cut(b, sentAt, now);
        this.#pause(b, retryAfterMs, now);
        this.#pump(b);
      },
      busy: (now) => {
        const b = this.#buckets.get(TOKEN_BUCKET);
        if (!b) return false;
        const cap = this.capacity('token', TOKEN_BUCKET, now);
        const free = bucketRefill(b.state, now, this.ratePerMs('token', now, TOKEN_BUCKET), cap) - b.state.inflight;
        return free < cap / 2;
      },
    };
  }

  #acquireBucket(cls: AnyClass, key: string, signal?: AbortSignal, limits?: AcquireOptions, from?: string): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const now = this.now();
    const b = this.#bucket(cls, key, now);
    const tooLong = pausedTooLong(b, limits, now);
    if (tooLong) return Promise.reject(tooLong);
    // With a source, the choice waits until this turn's promise continuations have run: a
    // fan-out's requests all arrive then, and the round-robin can only interleave those it has seen.
    if (b.queue.length === 0 && from === undefined) {
      if (bucketAvailableAt(b.state, now, this.ratePerMs(cls, now, key), this.capacity(cls, key, now)) <= now) {
        bucketTake(b.state);
        return Promise.resolve(permit(b, this.#host, 0));
      }
    }
    return enqueue(b, this.#host, now, signal, limits, from);
  }

  #adaptive(): AdaptiveSettings {
    return this.#settings.adaptive ?? CLIENT_DEFAULTS.rateLimits.adaptive!;
  }

  #factor(b: Bucket, now: number): number {
    return adaptiveFactor(b, now, this.#adaptive());
  }

  /** Lowers a bucket's rate after a 429 of a request sent since the last cut. */
  #cut(b: Bucket, sentAt: number, now: number): void {
    if (sentAt <= b.lastCut) return;
    const a = this.#adaptive();
    // Tokens earned so far at the old rate, then the new rate from here on.
    b.state.tokens = bucketRefill(b.state, now, this.ratePerMs(b.cls, now, b.key), this.capacity(b.cls, b.key, now));
    b.state.updatedAt = Math.max(b.state.updatedAt, now);
    b.factor = Math.max(a.minFactor, this.#factor(b, now) * a.decrease);
    b.factorAt = now;
    b.lastCut = now;
    b.state.tokens = Math.min(b.state.tokens, this.capacity(b.cls, b.key, now));
  }

  #pause(b: Bucket, retryAfterMs: number, now: number): void {
    const until = now + Math.max(0, retryAfterMs);
    if (until <= b.state.pausedUntil) return;
    bucketPause(b.state, until, this.capacity(b.cls, b.key, now));
    b.pausedFor = Math.max(0, retryAfterMs);
    this.#emit('pachca:paused', { bucket: b.key, untilMs: until, class: b.cls });
    for (const w of [...b.queue]) {
      const tooLong = pausedTooLong(b, w.limits, now);
      if (!tooLong) continue;
      b.queue.splice(b.queue.indexOf(w), 1);
      w.cleanup();
      w.reject(tooLong);
    }
    this.#pump(b);
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
      b.state.tokens = bucketRefill(b.state, at, this.#rate(b.cls, b, at, slow), this.capacity(b.cls, b.key, at));
      b.state.updatedAt = at;
    }
  }

  #bucket(cls: AnyClass, key: string, now: number): Bucket {
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= 512) this.#prune(now);
      b = newBucket(cls, key, this.capacity(cls), now);
      this.#buckets.set(key, b);
    }
    return b;
  }

  /** Forgets idle buckets that are full again and back at full rate: they hold no information. */
  #prune(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (key === TOKEN_BUCKET || b.queue.length || b.timer || b.deferred || b.state.inflight || b.state.pausedUntil > now) continue;
      if (this.#factor(b, now) < 1) continue;
      if (bucketRefill(b.state, now, this.ratePerMs(b.cls, now, key), this.capacity(b.cls, key, now)) >= this.capacity(b.cls, key, now)) {
        this.#buckets.delete(key);
      }
    }
  }

  #pump(b: Bucket): void {
    pump(b, this.#host);
  }
}

