/**
 * nextMatchingWall and prevMatchingWall are one search walking either way (cron-match.ts). Checked here
 * against a second-by-second brute force (seconds fields, carries across minute, hour, day, month
 * and year) and on sparse schedules whose answer is years away (leap days).
 */
import { describe, expect, it } from 'vitest';
import { nextMatchingWall, parseCron, prevMatchingWall, type CronSchedule } from '../../src/scheduler/cron.js';

function matches(s: CronSchedule, w: number): boolean {
  const d = new Date(w);
  if (!s.seconds.includes(d.getUTCSeconds()) || !s.minutes.includes(d.getUTCMinutes()) || !s.hours.includes(d.getUTCHours())) return false;
  if (!s.months.includes(d.getUTCMonth() + 1)) return false;
  const dom = s.daysOfMonth.includes(d.getUTCDate());
  const dow = s.daysOfWeek.includes(d.getUTCDay());
  return s.dayOfMonthRestricted && s.dayOfWeekRestricted ? dom || dow : dom && dow;
}

const iso = (w: number | null) => (w === null ? null : new Date(w).toISOString());

describe('the shared cron search, both directions', () => {
  const expressions = ['*/7 * * * * *', '5,50 */13 * * * *', '59 59 23 * * *', '0 0 0 1 * *', '30 */20 * * * 1,3'];
  // Around the ends of a minute, hour, day, month and year, where the search carries.
  const centers = ['2026-12-31T23:59:30Z', '2027-02-28T23:58:00Z', '2026-06-30T12:59:45Z', '2028-02-29T00:00:10Z'];

  it.each(expressions)('%s matches a brute-force scan', (expr) => {
    const s = parseCron(expr);
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const center of centers) {
      const c = Date.parse(center);
      for (let i = 0; i < 6; i++) {
        const probe = c - 1800_000 + Math.floor(rand() * 3600_000);
        let next: number | null = null;
        for (let w = Math.floor(probe / 1000) * 1000 + 1000; w <= probe + 3 * 86400_000; w += 1000) if (matches(s, w)) { next = w; break; }
        let prev: number | null = null;
        for (let w = Math.floor(probe / 1000) * 1000; w >= probe - 3 * 86400_000; w -= 1000) if (matches(s, w)) { prev = w; break; }
        if (next !== null) expect(iso(nextMatchingWall(s, probe, 5)), `next ${expr} after ${iso(probe)}`).toBe(iso(next));
        if (prev !== null) expect(iso(prevMatchingWall(s, probe, 5)), `prev ${expr} at or before ${iso(probe)}`).toBe(iso(prev));
      }
    }
  });

  it('a leap-day schedule is found years away in both directions, and not past the horizon', () => {
    const s = parseCron('0 9 29 2 *');
    const from = Date.parse('2026-03-01T00:00:00Z');
    expect(iso(nextMatchingWall(s, from, 5))).toBe('2028-02-29T09:00:00.000Z');
    expect(iso(prevMatchingWall(s, from, 5))).toBe('2024-02-29T09:00:00.000Z');
    expect(nextMatchingWall(s, from, 1)).toBeNull();
    expect(prevMatchingWall(s, from, 1)).toBeNull();
    // A slot is its own "at or before", never its own "after".
    const slot = Date.parse('2028-02-29T09:00:00Z');
    expect(prevMatchingWall(s, slot, 5)).toBe(slot);
    expect(iso(nextMatchingWall(s, slot, 9))).toBe('2032-02-29T09:00:00.000Z');
  });
});
