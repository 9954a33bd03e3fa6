import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../src/pachca/index.js';

const T0 = Date.parse('2025-03-01T12:00:00.000Z');

describe('token ceiling serves chats round-robin (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a fan-out interleaves its chats instead of sending one chat's burst back to back", async () => {
    // Each chat's own bucket lets its 4 messages through at once; the ceiling (10/s, burst 1) decides the order.
    const l = new RateLimiter({ safetyMargin: 0, rateLimits: { messageWrite: { perSecond: 4, burst: 4 }, token: { perSecond: 10, burst: 1 } } });
    const order: string[] = [];
    const all = ['a', 'b', 'c'].flatMap((chat) =>
      Array.from({ length: 4 }, () =>
        l.acquire('messageWrite', `messageWrite:chat:${chat}`).then((p) => {
          order.push(chat);
          p.release();
        }),
      ),
    );
    await vi.advanceTimersByTimeAsync(5_000);
    await Promise.all(all);
    // FIFO would be a a a a b b b b c c c c: four writes to one chat within 0.3 s.
    expect(order.join('')).toBe('abcabcabcabc');
  });

  it('requests without a source stay first in, first out', async () => {
    const l = new RateLimiter({ safetyMargin: 0, rateLimits: { other: { perSecond: 100, burst: 100 }, token: { perSecond: 10, burst: 1 } } });
    const order: number[] = [];
    const all = Array.from({ length: 5 }, (_, i) =>
      l.acquire('other', 'other').then((p) => {
        order.push(i);
        p.release();
      }),
    );
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all(all);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });
});
