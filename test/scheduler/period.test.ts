import { describe, expect, it } from 'vitest';
import { computePeriod } from '../../src/scheduler/index.js';
import type { PeriodPreset } from '../../src/config/types.js';

const HOUR = 3_600_000;
const d = (s: string) => new Date(s);
const iso = (s: string) => new Date(s).toISOString();

describe('computePeriod', () => {
  // [name, preset, zone, slot, previous slot, expected start, expected end, expected hours]
  const cases: Array<[string, PeriodPreset, string, string, string | null, string, string, number]> = [
    ['slot: from the previous slot', 'slot', 'Europe/Moscow', '2026-11-24T09:00:00+03:00', '2026-11-23T09:00:00+03:00',
      '2026-11-23T09:00:00+03:00', '2026-11-24T09:00:00+03:00', 24],
    ['slot: weekday schedule over a weekend', 'slot', 'Europe/Moscow', '2026-11-23T09:00:00+03:00', '2026-11-20T09:00:00+03:00',
      '2026-11-20T09:00:00+03:00', '2026-11-23T09:00:00+03:00', 72],
    ['slot: no previous slot → 24 h', 'slot', 'Europe/Moscow', '2026-11-24T09:00:00+03:00', null,
      '2026-11-23T09:00:00+03:00', '2026-11-24T09:00:00+03:00', 24],
    ['last_24h: exactly 24 h across spring forward', 'last_24h', 'Europe/Berlin', '2026-03-29T09:00:00+02:00', '2026-03-28T09:00:00+01:00',
      '2026-03-28T08:00:00+01:00', '2026-03-29T09:00:00+02:00', 24],
    ['previous_day: plain day', 'previous_day', 'Europe/Moscow', '2026-11-24T09:00:00+03:00', null,
      '2026-11-23T00:00:00+03:00', '2026-11-24T00:00:00+03:00', 24],
    ['previous_day: slot at local midnight', 'previous_day', 'Europe/Moscow', '2026-11-24T00:00:00+03:00', null,
      '2026-11-23T00:00:00+03:00', '2026-11-24T00:00:00+03:00', 24],
    ['previous_day: slot late in the day (UTC date differs)', 'previous_day', 'Europe/Moscow', '2026-11-24T01:30:00+03:00', null,
      '2026-11-23T00:00:00+03:00', '2026-11-24T00:00:00+03:00', 24],
    ['previous_day: 23-hour day (Berlin spring forward)', 'previous_day', 'Europe/Berlin', '2026-03-30T09:00:00+02:00', null,
      '2026-03-29T00:00:00+01:00', '2026-03-30T00:00:00+02:00', 23],
    ['previous_day: 25-hour day (Berlin fall back)', 'previous_day', 'Europe/Berlin', '2026-10-26T09:00:00+01:00', null,
      '2026-10-25T00:00:00+02:00', '2026-10-26T00:00:00+01:00', 25],
    ['previous_day: 25-hour day (New York fall back)', 'previous_day', 'America/New_York', '2026-11-02T08:00:00-05:00', null,
      '2026-11-01T00:00:00-04:00', '2026-11-02T00:00:00-05:00', 25],
    ['previous_day: skipped midnight starts at 01:00 (Santiago)', 'previous_day', 'America/Santiago', '2026-09-07T09:00:00-03:00', null,
      '2026-09-06T01:00:00-03:00', '2026-09-07T00:00:00-03:00', 23],
    ['previous_day: month boundary', 'previous_day', 'Europe/Moscow', '2026-03-01T09:00:00+03:00', null,
      '2026-02-28T00:00:00+03:00', '2026-03-01T00:00:00+03:00', 24],
    ['previous_day: year boundary', 'previous_day', 'Europe/Moscow', '2027-01-01T09:00:00+03:00', null,
      '2026-12-31T00:00:00+03:00', '2027-01-01T00:00:00+03:00', 24],
    ['previous_week: slot on Monday', 'previous_week', 'Europe/Moscow', '2026-11-23T09:00:00+03:00', null,
      '2026-11-16T00:00:00+03:00', '2026-11-23T00:00:00+03:00', 168],
    ['previous_week: slot on Sunday (same ISO week)', 'previous_week', 'Europe/Moscow', '2026-11-29T23:00:00+03:00', null,
      '2026-11-16T00:00:00+03:00', '2026-11-23T00:00:00+03:00', 168],
    ['previous_week: across a year boundary', 'previous_week', 'Europe/Moscow', '2026-01-01T09:00:00+03:00', null,
      '2025-12-22T00:00:00+03:00', '2025-12-29T00:00:00+03:00', 168],
    ['previous_week: contains spring forward (167 h)', 'previous_week', 'Europe/Berlin', '2026-03-30T09:00:00+02:00', null,
      '2026-03-23T00:00:00+01:00', '2026-03-30T00:00:00+02:00', 167],
    ['previous_week: contains fall back (169 h)', 'previous_week', 'Europe/Berlin', '2026-10-26T09:00:00+01:00', null,
      '2026-10-19T00:00:00+02:00', '2026-10-26T00:00:00+01:00', 169],
    ['previous_month: February', 'previous_month', 'Europe/Moscow', '2026-03-01T09:00:00+03:00', null,
      '2026-02-01T00:00:00+03:00', '2026-03-01T00:00:00+03:00', 28 * 24],
    ['previous_month: leap February', 'previous_month', 'Europe/Moscow', '2028-03-15T09:00:00+03:00', null,
      '2028-02-01T00:00:00+03:00', '2028-03-01T00:00:00+03:00', 29 * 24],
    ['previous_month: across a year boundary', 'previous_month', 'Europe/Moscow', '2026-01-15T09:00:00+03:00', null,
      '2025-12-01T00:00:00+03:00', '2026-01-01T00:00:00+03:00', 31 * 24],
    ['previous_month: March in Berlin (one hour short)', 'previous_month', 'Europe/Berlin', '2026-04-01T10:00:00+02:00', null,
      '2026-03-01T00:00:00+01:00', '2026-04-01T00:00:00+02:00', 31 * 24 - 1],
    ['previous_month: October in Berlin (one hour long)', 'previous_month', 'Europe/Berlin', '2026-11-01T10:00:00+01:00', null,
      '2026-10-01T00:00:00+02:00', '2026-11-01T00:00:00+01:00', 31 * 24 + 1],
    ['previous_month: slot at 00:30 local on the 1st, UTC still in the previous month', 'previous_month', 'Europe/Moscow', '2026-12-01T00:30:00+03:00', null,
      '2026-11-01T00:00:00+03:00', '2026-12-01T00:00:00+03:00', 30 * 24],
  ];

  it.each(cases)('%s', (_name, preset, tz, slot, prev, start, end, hours) => {
    const p = computePeriod(preset, { slot: d(slot), previousSlot: prev ? d(prev) : null, timeZone: tz });
    expect(p.start.toISOString()).toBe(iso(start));
    expect(p.end.toISOString()).toBe(iso(end));
    expect((p.end.getTime() - p.start.getTime()) / HOUR).toBe(hours);
  });

  it.each([
    ['last success given', '2026-11-20T09:00:00+03:00', '2026-11-23T09:00:00+03:00', '2026-11-20T09:00:00+03:00'],
    ['no success yet → previous slot', null, '2026-11-23T09:00:00+03:00', '2026-11-23T09:00:00+03:00'],
    ['success slot not before this slot → previous slot', '2026-11-24T09:00:00+03:00', '2026-11-23T09:00:00+03:00', '2026-11-23T09:00:00+03:00'],
    ['nothing at all → 24 h', null, null, '2026-11-23T09:00:00+03:00'],
  ])('since_last_success: %s', (_name, lastSuccess, prev, start) => {
    const p = computePeriod('since_last_success', {
      slot: d('2026-11-24T09:00:00+03:00'),
      previousSlot: prev ? d(prev) : null,
      lastSuccessSlot: lastSuccess ? d(lastSuccess) : null,
      timeZone: 'Europe/Moscow',
    });
    expect(p.start.toISOString()).toBe(iso(start));
    expect(p.end.toISOString()).toBe(iso('2026-11-24T09:00:00+03:00'));
  });

  it('rejects an unknown preset and zone with E_CONFIG', () => {
    const ctx = { slot: d('2026-11-24T06:00:00Z'), previousSlot: null, timeZone: 'Europe/Moscow' };
    expect(() => computePeriod('yesterday' as PeriodPreset, ctx)).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => computePeriod('previous_day', { ...ctx, timeZone: 'Nowhere/City' })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});
