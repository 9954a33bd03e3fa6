import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter, TOKEN_BUCKET, type BucketClass, type CeilingSource, type Permit } from '../../src/pachca/index.js';

const T0 = Date.parse('2025-03-01T12:00:00.000Z');

/** Starts `n` acquisitions per key, answered at once; records when each left (ms after T0). */
function fire(l: RateLimiter, keys: string[], n: number, cls: BucketClass = 'messageWrite') {
  const sent: { key: string; at: number }[] = [];
  const all = keys.flatMap((key) =>
    Array.from({ length: n }, () =>
      l.acquire(cls, key).then((p) => {
        sent.push({ key, at: Date.now() - T0 });
        p.release();
      }),
    ),
  );
  return { sent, all: Promise.all(all) };
}

describe('token-wide ceiling and adaptive rate (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('every request passes the token ceiling: 20 chats at 4/s each still leave at ≤ 10/s together', async () => {
    const l = new RateLimiter({
      safetyMargin: 0,
      rateLimits: { messageWrite: { perSecond: 4, burst: 4 }, token: { perSecond: 10, burst: 5 } },
    });
    const chats = Array.from({ length: 20 }, (_, i) => `messageWrite:chat:${i}`);
    const r = fire(l, chats, 3);
    await vi.advanceTimersByTimeAsync(10_000);
    await r.all;
    expect(r.sent.length).toBe(60);
    // Burst of 5, then one every 100 ms: never more than 5 + 10·t in any window from the start.
    for (const w of [0, 500, 1000, 2500]) {
      expect(r.sent.filter((s) => s.at <= w).length).toBeLessThanOrEqual(5 + Math.floor((10 * w) / 1000) + 1);
    }
    const last = Math.max(...r.sent.map((s) => s.at));
    expect(last).toBeGreaterThanOrEqual(5400);
    // Without the ceiling the per-chat buckets alone would let all 60 leave at once.
    const free = new RateLimiter({ safetyMargin: 0, rateLimits: { messageWrite: { perSecond: 4, burst: 4 }, token: { perSecond: 1000, burst: 1000 } } });
    const f = fire(free, chats, 3);
    await vi.advanceTimersByTimeAsync(0);
    expect(f.sent.length).toBe(60);
  });

  it('a 429 lowers the bucket it hit, once per burst, and the rate recovers gradually', async () => {
    const l = new RateLimiter({
      safetyMargin: 0,
      rateLimits: {
        messageWrite: { perSecond: 10, burst: 10 },
        breakerThreshold: 100, // the breaker is another brake; this is about the bucket's own rate
        adaptive: { decrease: 0.5, minFactor: 0.1, recoveryPerSecond: 0.1 },
      },
    });
    const key = 'messageWrite:chat:1';
    const rate = () => l.snapshot().buckets.find((b) => b.key === key)!.rateFactor;
    (await l.acquire('messageWrite', key)).release();
    // Three 429s of requests sent together: one cut, not three.
    for (let i = 0; i < 3; i++) l.onRateLimited('messageWrite', key, 1000, Date.now(), T0);
    expect(rate()).toBeCloseTo(0.5);
    expect(l.capacity('messageWrite', key)).toBe(5);
    // Paused for Retry-After, then paced at ~0.6 of the rate (0.5 + 1 s of recovery): ~167 ms apart, not 100.
    const r = fire(l, [key], 3);
    await vi.advanceTimersByTimeAsync(1500);
    const at = r.sent.map((s) => s.at);
    expect(at[0]).toBe(1000);
    for (const gap of [at[1]! - at[0]!, at[2]! - at[1]!]) {
      expect(gap).toBeGreaterThan(150);
      expect(gap).toBeLessThan(175);
    }
    // A 429 of a request sent after the cut lowers again.
    l.onRateLimited('messageWrite', key, 0, Date.now(), Date.now());
    expect(rate()).toBeLessThan(0.4);
    // Recovery: +0.1 per second without a 429, up to the configured rate.
    await vi.advanceTimersByTimeAsync(3000);
    expect(rate()).toBeGreaterThan(0.55);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rate()).toBe(1);
    // Another chat never slowed down.
    expect(l.ratePerMs('messageWrite', Date.now(), 'messageWrite:chat:2')).toBeCloseTo(0.01);
  });

  it('a 429 while the ceiling is busy pauses and lowers the ceiling too; a quiet ceiling is left alone', async () => {
    const l = new RateLimiter({
      safetyMargin: 0,
      rateLimits: { messageWrite: { perSecond: 4, burst: 4 }, token: { perSecond: 10, burst: 10 } },
    });
    const ceiling = () => l.snapshot().buckets.find((b) => b.key === TOKEN_BUCKET)!;
    // Quiet: one message, then a 429 on its chat: only that chat pauses.
    (await l.acquire('messageWrite', 'messageWrite:chat:1')).release();
    l.onRateLimited('messageWrite', 'messageWrite:chat:1', 2000);
    expect(ceiling().pausedUntil).toBeNull();
    expect(ceiling().rateFactor).toBe(1);
    // Busy: a fan-out drained the ceiling, a 429 anywhere may be the token's limit.
    const r = fire(l, Array.from({ length: 10 }, (_, i) => `messageWrite:chat:${100 + i}`), 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(r.sent.length).toBe(9); // the ceiling's burst, less the message above
    l.onRateLimited('messageWrite', 'messageWrite:chat:100', 1500);
    expect(ceiling().pausedUntil).toBe(T0 + 1500);
    expect(ceiling().rateFactor).toBeLessThan(1);
    const after = fire(l, ['messageWrite:chat:200'], 1);
    await vi.advanceTimersByTimeAsync(1499);
    expect(after.sent).toEqual([]);
    // The fan-out's last message (queued at the ceiling) goes first, then this one at the lowered rate.
    await vi.advanceTimersByTimeAsync(400);
    expect(after.sent.length).toBe(1);
    expect(after.sent[0]!.at).toBeGreaterThan(1600);
  });

  it('a plugged-in ceiling (a budget shared by replicas) gates every request', async () => {
    const given: string[] = [];
    let free = 2;
    const waiting: Array<(p: Permit) => void> = [];
    const permit = (): Permit => ({ waitedMs: 0, release: () => void (waiting.length ? waiting.shift()!(permit()) : free++) });
    const shared: CeilingSource = {
      acquire: () => {
        given.push('acquire');
        if (free > 0) {
          free--;
          return Promise.resolve(permit());
        }
        return new Promise((resolve) => waiting.push(resolve));
      },
      onRateLimited: () => given.push('429'),
      busy: () => true,
    };
    const l = new RateLimiter({ safetyMargin: 0, ceiling: shared, rateLimits: { messageRead: { perSecond: 100, burst: 100 } } });
    const held = await Promise.all([l.acquire('messageRead', 'messageRead'), l.acquire('messageRead', 'messageRead')]);
    let third = false;
    const p3 = l.acquire('messageRead', 'messageRead').then((p) => {
      third = true;
      return p;
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(third).toBe(false); // the shared budget is out, whatever the local bucket says
    held[0]!.release();
    (await p3).release();
    expect(third).toBe(true);
    l.onRateLimited('messageRead', 'messageRead', 1000);
    expect(given).toEqual(['acquire', 'acquire', 'acquire', '429']);
  });
});
