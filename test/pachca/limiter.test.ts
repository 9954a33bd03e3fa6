import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Emitter, type DigestEvents } from '../../src/events.js';
import {
  BucketPausedError,
  RateLimiter,
  bucketAvailableAt,
  bucketPause,
  bucketRelease,
  bucketTake,
  limiterFor,
  newBucketState,
} from '../../src/pachca/index.js';

const T0 = Date.parse('2025-03-01T12:00:00.000Z');

describe('token-bucket arithmetic (pure)', () => {
  const rate = 4 / 1000; // 4/s

  /** Sends n requests, each answered `latency` ms after it left; returns the send times. */
  function schedule(n: number, cap: number, latency: number): number[] {
    const s = newBucketState(cap, 0);
    const inflight: number[] = []; // answer times
    const sent: number[] = [];
    let now = 0;
    while (sent.length < n) {
      inflight.sort((a, b) => a - b);
      while (inflight.length && inflight[0]! <= now) bucketRelease(s, inflight.shift()!, rate, cap);
      const at = bucketAvailableAt(s, now, rate, cap);
      if (at === Infinity) {
        now = inflight[0]!; // wait for an answer
        continue;
      }
      if (inflight.length && inflight[0]! < at) {
        now = inflight[0]!;
        continue;
      }
      now = at;
      bucketTake(s);
      sent.push(Math.round(now));
      inflight.push(now + latency);
    }
    return sent;
  }

  it('allows a burst, then one request per interval', () => {
    expect(schedule(5, 2, 0)).toEqual([0, 0, 250, 500, 750]);
  });

  it('debits at the answer: slow answers shift the schedule once, the rate stays', () => {
    // A server counting the 1st request at its answer (100 ms) and the 3rd at its send would see
    // 3 requests in 150 ms with a send-time limiter; here the 3rd waits for 100 + 250.
    expect(schedule(5, 2, 100)).toEqual([0, 0, 350, 600, 850]);
  });

  it('never has more than a burst in flight', () => {
    const s = newBucketState(2, 0);
    bucketTake(s);
    bucketTake(s);
    expect(bucketAvailableAt(s, 10_000, rate, 2)).toBe(Infinity);
    bucketRelease(s, 10_000, rate, 2);
    expect(bucketAvailableAt(s, 10_000, rate, 2)).toBe(10_250);
  });

  it('a pause holds the bucket, then resumes with one token and no burst', () => {
    const s = newBucketState(5, 0);
    bucketPause(s, 2000, 5);
    expect(bucketAvailableAt(s, 100, rate, 5)).toBe(2000);
    bucketTake(s);
    bucketRelease(s, 2000, rate, 5);
    expect(bucketAvailableAt(s, 2000, rate, 5)).toBe(2250);
  });
});

describe('RateLimiter (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const make = (extra: ConstructorParameters<typeof RateLimiter>[0] = {}) =>
    new RateLimiter({
      safetyMargin: 0,
      rateLimits: { messageWrite: { perSecond: 4, burst: 2 }, messageRead: { perSecond: 10, burst: 1 } },
      ...extra,
    });

  /** Starts `n` acquisitions and records when (relative to T0) and in which order they resolve. */
  function run(l: RateLimiter, key: string, n: number, cls: 'messageWrite' | 'messageRead' = 'messageWrite') {
    const done: { i: number; at: number }[] = [];
    const all = Array.from({ length: n }, (_, i) =>
      l.acquire(cls, key).then((p) => {
        done.push({ i, at: Date.now() - T0 });
        p.release(); // answered at once
      }),
    );
    return { done, all: Promise.all(all) };
  }

  it('paces a bucket FIFO: burst first, then the sustained rate', async () => {
    const l = make();
    const r = run(l, 'messageWrite:chat:1', 6);
    await vi.advanceTimersByTimeAsync(2000);
    await r.all;
    expect(r.done.map((d) => d.i)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(r.done.map((d) => d.at)).toEqual([0, 0, 250, 500, 750, 1000]);
  });

  it('keeps a safety margin under the configured rate', async () => {
    const l = make({ safetyMargin: 0.03 });
    const r = run(l, 'messageWrite:chat:1', 4);
    await vi.advanceTimersByTimeAsync(2000);
    const at = r.done.map((d) => d.at);
    // 4/s·0.97 → one request every 257.7 ms instead of 250.
    expect(at[2]).toBe(258);
    expect(at[3]).toBe(516);
  });

  it('paces every chat separately', async () => {
    const l = make();
    const a = run(l, 'messageWrite:chat:1', 3);
    const b = run(l, 'messageWrite:chat:2', 3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(a.done.map((d) => d.at)).toEqual([0, 0, 250]);
    expect(b.done.map((d) => d.at)).toEqual([0, 0, 250]);
  });

  it('a 429 pauses the whole bucket (queued requests too) until Retry-After, then resumes at the rate', async () => {
    // Adaptation off: this is about the pause alone (limiter-adaptive.test.ts covers the rate).
    const l = make({
      rateLimits: {
        messageWrite: { perSecond: 4, burst: 2 },
        adaptive: { decrease: 1, minFactor: 1, recoveryPerSecond: 0 },
      },
    });
    const events = new Emitter<DigestEvents>();
    const paused: DigestEvents['pachca:paused'][] = [];
    events.on('pachca:paused', (p) => paused.push(p));
    l.attach(events);
    const key = 'messageWrite:chat:7';
    (await l.acquire('messageWrite', key)).release();
    (await l.acquire('messageWrite', key)).release();
    l.onRateLimited('messageWrite', key, 3000);
    const r = run(l, key, 3);
    await vi.advanceTimersByTimeAsync(2999);
    expect(r.done).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.done.map((d) => d.at)).toEqual([3000, 3250, 3500]);
    expect(paused).toEqual([{ bucket: key, untilMs: T0 + 3000, class: 'messageWrite' }]);
    // Other chats are not paused.
    const other = run(l, 'messageWrite:chat:8', 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(other.done.length).toBe(1);
  });

  it('a pause longer than a caller may wait rejects it at once (queued or new); the pause itself stands', async () => {
    const l = make();
    const key = 'messageRead';
    const held = await l.acquire('messageRead', key); // burst 1: the next ones queue
    let patientGot = false;
    const patient = l.acquire('messageRead', key, undefined, { maxPauseMs: 700_000 }).then((p) => {
      patientGot = true;
      p.release();
    });
    const impatient = l.acquire('messageRead', key, undefined, { maxPauseMs: 10_000 });
    const unlimited = l.acquire('messageRead', key);
    l.onRateLimited('messageRead', key, 600_000);
    const e = await impatient.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BucketPausedError);
    expect(e).toMatchObject({
      code: 'E_DELIVERY',
      bucket: key,
      bucketClass: 'messageRead',
      retryAfterMs: 600_000,
      remainingMs: 600_000,
      pausedUntil: T0 + 600_000,
      exceeds: 'maxPauseMs',
    });
    held.release();
    // New callers are turned away without queueing: by the cap, or by their own deadline.
    await expect(l.acquire('messageRead', key, undefined, { maxPauseMs: 10_000 })).rejects.toBeInstanceOf(BucketPausedError);
    await expect(l.acquire('messageRead', key, undefined, { deadline: Date.now() + 60_000 })).rejects.toMatchObject({ exceeds: 'deadline' });
    // Nothing leaves before Retry-After has passed, whoever waits.
    await vi.advanceTimersByTimeAsync(599_999);
    expect(patientGot).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(patientGot).toBe(true);
    await patient;
    await vi.advanceTimersByTimeAsync(1_000);
    (await unlimited).release();
    // Once the pause is over, a limited caller gets through again.
    const later = l.acquire('messageRead', key, undefined, { maxPauseMs: 10_000 });
    await vi.advanceTimersByTimeAsync(1_000);
    (await later).release();
    expect(l.snapshot().buckets.find((b) => b.key === key)?.pausedUntil).toBeNull();
  });

  it("settles the token bucket at this replica's share when the breaker opens, as between any two requests", async () => {
    const l = make({
      rateLimits: {
        token: { perSecond: 100, burst: 100 },
        messageRead: { perSecond: 1000, burst: 1000 },
        breakerThreshold: 3,
        breakerSlowdown: 0.5,
        breakerCooldownMs: 10_000,
      },
    });
    l.setTokenShare(0.5); // this replica's half: 50/s, a burst of 50
    // 20 of its 50 tokens spent, then 100 ms idle at 50/s: 35 (40 at the whole token's 100/s). More
    // than half is left, so the 429s below are not the ceiling's and do not slow it down themselves.
    await run(l, 'token-drain', 20, 'messageRead').all;
    await vi.advanceTimersByTimeAsync(100);
    const share = l.snapshot().buckets.find((b) => b.key === 'token')!.tokens;
    for (let i = 0; i < 3; i++) l.onRateLimited('messageWrite', `messageWrite:chat:${i}`, 0);
    expect(l.breakerOpen()).toBe(true);
    // Opening the breaker settles every bucket at the rate it had: the same tokens as just before.
    expect(l.snapshot().buckets.find((b) => b.key === 'token')!.tokens).toBeCloseTo(share, 6);
    expect(share).toBeCloseTo(35, 6);
  });

  it('opens the breaker after consecutive 429s (whole token slowed), closes it after the cooldown', async () => {
    const l = make({
      rateLimits: {
        messageRead: { perSecond: 10, burst: 1 },
        breakerThreshold: 3,
        breakerSlowdown: 0.5,
        breakerCooldownMs: 10_000,
      },
    });
    const events = new Emitter<DigestEvents>();
    const states: string[] = [];
    events.on('pachca:breaker', (p) => states.push(p.state));
    l.attach(events);
    l.onRateLimited('messageWrite', 'messageWrite:chat:1', 0);
    l.onSuccess(); // the run of 429s is broken: the count starts again
    for (let i = 0; i < 3; i++) l.onRateLimited('messageWrite', `messageWrite:chat:${i}`, 0);
    expect(l.breakerOpen()).toBe(true);
    expect(states).toEqual(['open']);

    const slow = run(l, 'messageRead', 3, 'messageRead');
    await vi.advanceTimersByTimeAsync(1000);
    expect(slow.done.map((d) => d.at)).toEqual([0, 200, 400]); // 5/s instead of 10/s

    await vi.advanceTimersByTimeAsync(10_000);
    expect(l.breakerOpen()).toBe(false);
    expect(states).toEqual(['open', 'closed']);
    const start = Date.now() - T0;
    const fast = run(l, 'messageRead', 3, 'messageRead');
    await vi.advanceTimersByTimeAsync(1000);
    expect(fast.done.map((d) => d.at - start)).toEqual([0, 100, 200]);
  });

  it('an aborted wait rejects at once with E_ABORTED and leaves the queue working', async () => {
    const l = make();
    const key = 'messageWrite:chat:1';
    (await l.acquire('messageWrite', key)).release();
    (await l.acquire('messageWrite', key)).release();
    const ac = new AbortController();
    const aborted = l.acquire('messageWrite', key, ac.signal);
    const after = run(l, key, 1);
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'E_ABORTED' });
    await vi.advanceTimersByTimeAsync(300);
    expect(after.done.map((d) => d.at)).toEqual([250]);
  });

  it('a deadline abort (TimeoutError) rejects with E_TIMEOUT', async () => {
    const l = make();
    const key = 'messageWrite:chat:1';
    (await l.acquire('messageWrite', key)).release();
    (await l.acquire('messageWrite', key)).release();
    const ac = new AbortController();
    const p = l.acquire('messageWrite', key, ac.signal);
    ac.abort(new DOMException('deadline', 'TimeoutError'));
    await expect(p).rejects.toMatchObject({ code: 'E_TIMEOUT' });
  });
});

describe('limiterFor', () => {
  it('shares one limiter per base URL and token', () => {
    const a = limiterFor('http://x/api', 'tok-limiter-1');
    expect(limiterFor('http://x/api/', 'tok-limiter-1')).toBe(a);
    expect(limiterFor('http://x/api', 'tok-limiter-2')).not.toBe(a);
    expect(limiterFor('http://y/api', 'tok-limiter-1')).not.toBe(a);
  });
});
