import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from '../../src/pachca/index.js';

const NOW = Date.parse('2025-03-01T12:00:00.000Z');

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('3', NOW)).toBe(3000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('1.5', NOW)).toBe(1500);
    expect(parseRetryAfter(['2'], NOW)).toBe(2000);
  });

  it('reads an HTTP date relative to now', () => {
    expect(parseRetryAfter('Sat, 01 Mar 2025 12:00:05 GMT', NOW)).toBe(5000);
    expect(parseRetryAfter('Sat, 01 Mar 2025 11:59:00 GMT', NOW)).toBe(0);
  });

  it("measures an HTTP date from the server's Date header when present (clock skew)", () => {
    // Our clock is 10 s behind the server: by our clock the date is 15 s away, by the server's 5 s.
    const serverDate = 'Sat, 01 Mar 2025 12:00:10 GMT';
    expect(parseRetryAfter('Sat, 01 Mar 2025 12:00:15 GMT', NOW, serverDate)).toBe(5000);
  });

  it('ignores garbage', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter('', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter('-1', NOW)).toBeUndefined();
  });
});

describe('backoffDelay (full jitter)', () => {
  const opts = { baseDelayMs: 500, maxDelayMs: 8000 };
  it('doubles the ceiling per attempt up to the maximum', () => {
    const top = () => 0.999999;
    expect(backoffDelay(1, opts, top)).toBe(499);
    expect(backoffDelay(2, opts, top)).toBe(999);
    expect(backoffDelay(3, opts, top)).toBe(1999);
    expect(backoffDelay(10, opts, top)).toBe(7999);
  });
  it('spans the whole range from zero', () => {
    expect(backoffDelay(3, opts, () => 0)).toBe(0);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(1000);
  });
});
