/**
 * Which process counts as "sending" for the shared token budget (budget-share.ts): one that
 * competes for the token, not one that merely polls. Counting a poller would hand the one
 * replica that sends a fan-out half (or a third) of the token.
 */
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/pachca/index.js';

const T0 = Date.parse('2026-12-02T09:00:00.000Z');

function limiter() {
  let now = T0;
  const l = new RateLimiter({ now: () => now, rateLimits: { token: { perSecond: 50, burst: 50 } } });
  return { l, advance: (ms: number) => (now += ms), at: () => now };
}

async function send(l: RateLimiter, n: number, key = 'other:x') {
  for (let i = 0; i < n; i++) (await l.acquire('other', key)).release();
}

describe('token activity for the shared budget', () => {
  it('a few requests a second (an event-history poll) is not sending', async () => {
    const { l, advance, at } = limiter();
    for (let s = 0; s < 3; s++) {
      await send(l, 3);
      advance(1_000);
    }
    expect(l.takeTokenActivity(at())).toBe(false);
  });

  it('using more than a tenth of the ceiling is sending, even within the share', async () => {
    const { l, advance, at } = limiter();
    await send(l, 8);
    advance(1_000);
    expect(l.takeTokenActivity(at())).toBe(true);
    // The next interval starts afresh.
    advance(1_000);
    expect(l.takeTokenActivity(at())).toBe(false);
  });

  it('requests that found the share spent are sending, however few', async () => {
    const { l, advance, at } = limiter();
    l.setTokenShare(0.02); // one request per second, burst 1
    await send(l, 1);
    const stop = new AbortController();
    const second = l.acquire('other', 'other:y', stop.signal).catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 10));
    advance(9_000);
    expect(l.takeTokenActivity(at())).toBe(true);
    stop.abort();
    expect(await second).toBe('aborted');
  });
});
