import { describe, expect, it } from 'vitest';
import { formatInZone, isValidTimeZone, toZonedIso } from '../../src/scheduler/index.js';

describe('isValidTimeZone', () => {
  it.each([
    ['Europe/Moscow', true],
    ['Europe/Berlin', true],
    ['America/New_York', true],
    ['UTC', true],
    ['Etc/GMT-3', true],
    ['Asia/Kathmandu', true],
    ['Europe/Moskow', false],
    ['Mars/Olympus', false],
    ['', false],
    ['   ', false],
    ['MSK+3', false],
  ])('%j → %s', (tz, ok) => {
    expect(isValidTimeZone(tz)).toBe(ok);
  });
});

describe('toZonedIso', () => {
  it.each([
    ['2026-11-23T21:00:00Z', 'Europe/Moscow', '2026-11-24T00:00:00.000+03:00'],
    ['2026-03-29T01:00:00Z', 'Europe/Berlin', '2026-03-29T03:00:00.000+02:00'],
    ['2026-03-29T00:59:59.999Z', 'Europe/Berlin', '2026-03-29T01:59:59.999+01:00'],
    ['2026-10-25T00:30:00Z', 'Europe/Berlin', '2026-10-25T02:30:00.000+02:00'],
    ['2026-10-25T01:30:00Z', 'Europe/Berlin', '2026-10-25T02:30:00.000+01:00'],
    ['2026-11-01T06:30:00Z', 'America/New_York', '2026-11-01T01:30:00.000-05:00'],
    ['2026-07-01T12:00:00.123Z', 'UTC', '2026-07-01T12:00:00.123+00:00'],
    ['2026-07-01T12:00:00Z', 'Asia/Kolkata', '2026-07-01T17:30:00.000+05:30'],
    ['2026-07-01T12:00:00Z', 'Asia/Kathmandu', '2026-07-01T17:45:00.000+05:45'],
    ['2026-07-01T12:00:00Z', 'America/St_Johns', '2026-07-01T09:30:00.000-02:30'],
    ['2026-01-01T12:00:00Z', 'America/St_Johns', '2026-01-01T08:30:00.000-03:30'],
  ])('%s in %s → %s', (instant, tz, expected) => {
    const s = toZonedIso(new Date(instant), tz);
    expect(s).toBe(expected);
    expect(new Date(s).getTime()).toBe(new Date(instant).getTime());
  });

  it('round-trips historic offsets with seconds (LMT) to the same instant', () => {
    const t = new Date('1880-06-01T12:00:00Z');
    expect(new Date(toZonedIso(t, 'Europe/Moscow')).getTime()).toBe(t.getTime());
  });

  it('rejects an unknown zone', () => {
    expect(() => toZonedIso(new Date(), 'Nowhere/City')).toThrow(/unknown time zone "Nowhere\/City"/);
  });
});

describe('formatInZone', () => {
  const t = new Date('2026-11-23T21:05:00Z');
  it('defaults to yyyy-MM-dd HH:mm ZZ', () => {
    expect(formatInZone(t, 'Europe/Moscow')).toBe('2026-11-24 00:05 +03:00');
    expect(formatInZone(new Date('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toBe('2026-03-29 03:00 +02:00');
  });
  it('accepts luxon tokens and a locale for names', () => {
    expect(formatInZone(t, 'Europe/Moscow', 'dd.MM.yyyy HH:mm:ss')).toBe('24.11.2026 00:05:00');
    expect(formatInZone(t, 'Europe/Moscow', 'd MMMM yyyy', 'ru')).toBe('24 ноября 2026');
    expect(formatInZone(t, 'America/New_York', 'EEEE HH:mm')).toBe('Monday 16:05');
  });
});
