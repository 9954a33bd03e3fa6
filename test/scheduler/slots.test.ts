import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { latestSlot, nextSlot, nextSlots, parseCron, slotsBetween } from '../../src/scheduler/index.js';
import type { CronSchedule } from '../../src/scheduler/index.js';

const BERLIN = 'Europe/Berlin';
const NY = 'America/New_York';
const MOSCOW = 'Europe/Moscow';

/** Instants as UTC ISO strings, so failures read well; expectations are written with local offsets. */
const utcIso = (d: Date | null) => (d ? d.toISOString() : null);
const asUtc = (local: string | null) => (local ? new Date(local).toISOString() : null);

describe('nextSlot / latestSlot around DST transitions', () => {
  // [name, expression, zone, reference instant, expected next slots (local ISO)]
  const nextCases: Array<[string, string, string, string, string[]]> = [
    // Europe/Berlin spring forward: 2026-03-29 02:00 CET → 03:00 CEST (01:00Z)
    ['Berlin 02:30 daily in the gap → 03:00 CEST', '30 2 * * *', BERLIN, '2026-03-28T12:00:00Z',
      ['2026-03-29T03:00:00+02:00', '2026-03-30T02:30:00+02:00']],
    ['Berlin every 15 min across the gap', '*/15 * * * *', BERLIN, '2026-03-29T00:40:00Z',
      ['2026-03-29T01:45:00+01:00', '2026-03-29T03:00:00+02:00', '2026-03-29T03:15:00+02:00']],
    ['Berlin hourly across the gap (02:00 and 03:00 are one instant)', '0 * * * *', BERLIN, '2026-03-29T00:30:00Z',
      ['2026-03-29T03:00:00+02:00', '2026-03-29T04:00:00+02:00']],
    ['Berlin 03:00 on the spring-forward day', '0 3 * * *', BERLIN, '2026-03-28T12:00:00Z',
      ['2026-03-29T03:00:00+02:00', '2026-03-30T03:00:00+02:00']],
    ['Berlin every second across the gap', '* * * * * *', BERLIN, '2026-03-29T00:59:58Z',
      ['2026-03-29T01:59:59+01:00', '2026-03-29T03:00:00+02:00', '2026-03-29T03:00:01+02:00']],
    ['Berlin seconds schedule only inside the gap hour runs once', '*/30 * 2 * * *', BERLIN, '2026-03-29T00:00:00Z',
      ['2026-03-29T03:00:00+02:00', '2026-03-30T02:00:00+02:00', '2026-03-30T02:00:30+02:00']],
    // Europe/Berlin fall back: 2026-10-25 03:00 CEST → 02:00 CET (01:00Z)
    ['Berlin 02:30 daily in the repeated hour runs once', '30 2 * * *', BERLIN, '2026-10-24T12:00:00Z',
      ['2026-10-25T02:30:00+02:00', '2026-10-26T02:30:00+01:00']],
    ['Berlin after the first pass, the second 02:30 is skipped', '30 2 * * *', BERLIN, '2026-10-25T01:00:00Z',
      ['2026-10-26T02:30:00+01:00']],
    ['Berlin hourly across fall back', '0 * * * *', BERLIN, '2026-10-24T23:30:00Z',
      ['2026-10-25T02:00:00+02:00', '2026-10-25T03:00:00+01:00', '2026-10-25T04:00:00+01:00']],
    ['Berlin every 15 min across fall back', '*/15 * * * *', BERLIN, '2026-10-25T00:40:00Z',
      ['2026-10-25T02:45:00+02:00', '2026-10-25T03:00:00+01:00']],
    ['Berlin every second across fall back', '* * * * * *', BERLIN, '2026-10-25T00:59:58Z',
      ['2026-10-25T02:59:59+02:00', '2026-10-25T03:00:00+01:00', '2026-10-25T03:00:01+01:00']],
    // America/New_York: spring 2026-03-08 02:00 EST → 03:00 EDT (07:00Z); fall 2026-11-01 02:00 EDT → 01:00 EST (06:00Z)
    ['New York 02:30 daily in the gap', '30 2 * * *', NY, '2026-03-07T12:00:00Z',
      ['2026-03-08T03:00:00-04:00', '2026-03-09T02:30:00-04:00']],
    ['New York every 15 min across the gap', '*/15 * * * *', NY, '2026-03-08T06:40:00Z',
      ['2026-03-08T01:45:00-05:00', '2026-03-08T03:00:00-04:00', '2026-03-08T03:15:00-04:00']],
    ['New York every 20 s across the gap', '*/20 * * * * *', NY, '2026-03-08T06:59:30Z',
      ['2026-03-08T01:59:40-05:00', '2026-03-08T03:00:00-04:00', '2026-03-08T03:00:20-04:00']],
    ['New York 01:30 during fall back runs once', '30 1 * * *', NY, '2026-10-31T12:00:00Z',
      ['2026-11-01T01:30:00-04:00', '2026-11-02T01:30:00-05:00']],
    ['New York hourly across fall back', '0 * * * *', NY, '2026-11-01T04:30:00Z',
      ['2026-11-01T01:00:00-04:00', '2026-11-01T02:00:00-05:00', '2026-11-01T03:00:00-05:00']],
    // Europe/Moscow: no DST
    ['Moscow weekdays at 09:00 over a weekend', '0 9 * * 1-5', MOSCOW, '2026-11-20T12:00:00Z',
      ['2026-11-23T09:00:00+03:00', '2026-11-24T09:00:00+03:00']],
    ['Moscow: strictly after a slot', '0 9 * * *', MOSCOW, '2026-11-24T06:00:00Z',
      ['2026-11-25T09:00:00+03:00']],
    ['Moscow: milliseconds before a slot', '0 9 * * *', MOSCOW, '2026-11-24T05:59:59.999Z',
      ['2026-11-24T09:00:00+03:00']],
    ['Moscow: every 5 minutes, within the hour', '*/5 * * * *', MOSCOW, '2026-11-24T06:02:10Z',
      ['2026-11-24T09:05:00+03:00', '2026-11-24T09:10:00+03:00']],
    ['Moscow: year boundary', '0 0 1 1 *', MOSCOW, '2026-06-01T00:00:00Z', ['2027-01-01T00:00:00+03:00', '2028-01-01T00:00:00+03:00']],
    ['Moscow: month end (31st only in long months)', '0 12 31 * *', MOSCOW, '2026-04-01T00:00:00Z',
      ['2026-05-31T12:00:00+03:00', '2026-07-31T12:00:00+03:00', '2026-08-31T12:00:00+03:00']],
    ['OR rule: day 1 or Monday', '0 0 1 * 1', MOSCOW, '2026-06-01T12:00:00Z',
      ['2026-06-08T00:00:00+03:00', '2026-06-15T00:00:00+03:00', '2026-06-22T00:00:00+03:00', '2026-06-29T00:00:00+03:00',
        '2026-07-01T00:00:00+03:00', '2026-07-06T00:00:00+03:00']],
    ['AND rule when day-of-month starts with *: odd days that are Mondays', '0 0 */2 * 1', MOSCOW, '2026-05-31T12:00:00Z',
      ['2026-06-01T00:00:00+03:00', '2026-06-15T00:00:00+03:00', '2026-06-29T00:00:00+03:00']],
    ['leap day: next 29 February', '0 0 29 2 *', MOSCOW, '2026-03-01T00:00:00Z', ['2028-02-29T00:00:00+03:00', '2032-02-29T00:00:00+03:00']],
    ['leap day across the 2100 non-leap year', '0 0 29 2 *', 'UTC', '2097-03-01T00:00:00Z', ['2104-02-29T00:00:00Z']],
    ['6 fields: at second 30', '30 0 9 * * *', MOSCOW, '2026-11-24T06:00:00Z', ['2026-11-24T09:00:30+03:00', '2026-11-25T09:00:30+03:00']],
  ];

  it.each(nextCases)('%s', (_name, expr, tz, ref, expected) => {
    const got = nextSlots(parseCron(expr), tz, new Date(ref), expected.length);
    expect(got.map(utcIso)).toEqual(expected.map(asUtc));
    expect(utcIso(nextSlot(parseCron(expr), tz, new Date(ref)))).toBe(asUtc(expected[0]!));
  });

  // [name, expression, zone, at-or-before instant, expected latest slot (local ISO) or null]
  const latestCases: Array<[string, string, string, string, string | null]> = [
    ['Berlin gap slot, at the instant itself (inclusive)', '30 2 * * *', BERLIN, '2026-03-29T01:00:00Z', '2026-03-29T03:00:00+02:00'],
    ['Berlin gap slot, a second before', '30 2 * * *', BERLIN, '2026-03-29T00:59:59Z', '2026-03-28T02:30:00+01:00'],
    ['Berlin every 15 min, just after the gap', '*/15 * * * *', BERLIN, '2026-03-29T01:10:00Z', '2026-03-29T03:00:00+02:00'],
    ['Berlin fall back: second pass of 02:45 points to the first 02:30', '30 2 * * *', BERLIN, '2026-10-25T01:45:00Z', '2026-10-25T02:30:00+02:00'],
    ['Berlin fall back: every 15 min during the second pass', '*/15 * * * *', BERLIN, '2026-10-25T01:40:00Z', '2026-10-25T02:45:00+02:00'],
    ['New York fall back: 01:45 EST → 01:30 EDT', '30 1 * * *', NY, '2026-11-01T06:45:00Z', '2026-11-01T01:30:00-04:00'],
    ['New York spring: seconds right after the gap', '* * * * * *', NY, '2026-03-08T07:00:00.500Z', '2026-03-08T03:00:00-04:00'],
    ['Moscow weekday slot at or before Monday 08:59:59', '0 9 * * 1-5', MOSCOW, '2026-11-23T05:59:59Z', '2026-11-20T09:00:00+03:00'],
    ['Moscow exact slot', '0 9 * * 1-5', MOSCOW, '2026-11-23T06:00:00Z', '2026-11-23T09:00:00+03:00'],
    ['Moscow previous leap day', '0 0 29 2 *', MOSCOW, '2026-11-23T06:00:00Z', '2024-02-29T00:00:00+03:00'],
    ['never: 30 February', '0 0 30 2 *', MOSCOW, '2026-11-23T06:00:00Z', null],
  ];

  it.each(latestCases)('latest: %s', (_name, expr, tz, ref, expected) => {
    expect(utcIso(latestSlot(parseCron(expr), tz, new Date(ref)))).toBe(asUtc(expected));
  });

  it.each([
    ['0 0 30 2 *'],
    ['0 0 31 4,6,9,11 *'],
  ])('%s never matches: null / empty', (expr) => {
    const s = parseCron(expr);
    expect(nextSlot(s, MOSCOW, new Date('2026-01-01T00:00:00Z'))).toBeNull();
    expect(nextSlots(s, MOSCOW, new Date('2026-01-01T00:00:00Z'), 3)).toEqual([]);
  });

  it('30 February with a weekday still matches that weekday (OR rule)', () => {
    const got = nextSlots(parseCron('0 0 30 2 MON'), 'UTC', new Date('2026-01-01T00:00:00Z'), 2);
    expect(got.map(utcIso)).toEqual(['2026-02-02T00:00:00.000Z', '2026-02-09T00:00:00.000Z']);
  });

  it('rejects an unknown zone and an invalid date with stable codes', () => {
    const s = parseCron('0 9 * * *');
    expect(() => nextSlot(s, 'Mars/Olympus', new Date())).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => nextSlot(s, 'UTC', new Date('nope'))).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
  });
});

describe('slotsBetween', () => {
  it('over the Berlin spring-forward gap: no duplicate, no missing slot', () => {
    const got = slotsBetween(parseCron('*/30 * * * *'), BERLIN, new Date('2026-03-29T00:00:00Z'), new Date('2026-03-29T02:00:00Z'), 100);
    expect(got.map(utcIso)).toEqual(
      ['2026-03-29T01:30:00+01:00', '2026-03-29T03:00:00+02:00', '2026-03-29T03:30:00+02:00', '2026-03-29T04:00:00+02:00'].map(asUtc),
    );
  });

  it('over the New York fall back: 01:30 daily once', () => {
    const got = slotsBetween(parseCron('30 1 * * *'), NY, new Date('2026-10-31T12:00:00Z'), new Date('2026-11-02T12:00:00Z'), 100);
    expect(got.map(utcIso)).toEqual(['2026-11-01T01:30:00-04:00', '2026-11-02T01:30:00-05:00'].map(asUtc));
  });

  it('every second across the Berlin gap: contiguous and unique', () => {
    const from = new Date('2026-03-29T00:59:00Z');
    const got = slotsBetween(parseCron('* * * * * *'), BERLIN, from, new Date('2026-03-29T01:01:00Z'), 1000);
    expect(got).toHaveLength(120);
    for (let i = 0; i < got.length; i++) expect(got[i]!.getTime()).toBe(from.getTime() + (i + 1) * 1000);
  });

  it('is exclusive at the start, inclusive at the end, and capped by limit (earliest first)', () => {
    const s = parseCron('0 9 * * *');
    const got = slotsBetween(s, MOSCOW, new Date('2026-11-01T06:00:00Z'), new Date('2026-11-04T06:00:00Z'), 100);
    expect(got.map(utcIso)).toEqual(['2026-11-02T06:00:00.000Z', '2026-11-03T06:00:00.000Z', '2026-11-04T06:00:00.000Z']);
    const capped = slotsBetween(s, MOSCOW, new Date('2026-11-01T06:00:00Z'), new Date('2026-12-01T06:00:00Z'), 2);
    expect(capped.map(utcIso)).toEqual(['2026-11-02T06:00:00.000Z', '2026-11-03T06:00:00.000Z']);
    expect(slotsBetween(s, MOSCOW, new Date('2026-11-04T06:00:00Z'), new Date('2026-11-01T06:00:00Z'), 10)).toEqual([]);
  });

  it('a year of a weekday schedule: 261 slots, one per weekday', () => {
    const got = slotsBetween(parseCron('0 9 * * 1-5'), BERLIN, new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'), 1000);
    expect(got).toHaveLength(261);
    for (const d of got) expect(DateTime.fromJSDate(d, { zone: BERLIN }).toFormat('HH:mm')).toBe('09:00');
  });
});

// ------------------------------------------------------------------------------------------
// Cross-check against a brute-force oracle built on luxon (independent of our offset code):
// scan every minute; an instant is a slot when some matching wall minute lies in
// (greatest wall time shown before it, its own wall time].

const MINUTE = 60_000;

function wallLuxon(tz: string, t: number): number {
  const d = DateTime.fromMillis(t, { zone: tz });
  return Date.UTC(d.year, d.month - 1, d.day, d.hour, d.minute);
}

function matchesWallMinute(s: CronSchedule, w: number): boolean {
  const d = new Date(w);
  if (!s.minutes.includes(d.getUTCMinutes()) || !s.hours.includes(d.getUTCHours()) || !s.months.includes(d.getUTCMonth() + 1)) return false;
  const dom = s.daysOfMonth.includes(d.getUTCDate());
  const dow = s.daysOfWeek.includes(d.getUTCDay());
  return s.dayOfMonthRestricted && s.dayOfWeekRestricted ? dom || dow : dom && dow;
}

function oracle(s: CronSchedule, walls: Array<[number, number]>, from: number, to: number): number[] {
  const out: number[] = [];
  let maxWall = walls[0]![1];
  for (const [t, w] of walls.slice(1)) {
    let hit = false;
    for (let c = maxWall + MINUTE; c <= w && !hit; c += MINUTE) hit = matchesWallMinute(s, c);
    if (hit && t > from && t <= to) out.push(t);
    maxWall = Math.max(maxWall, w);
  }
  return out;
}

describe('cross-check with a brute-force oracle around transitions', () => {
  const windows: Array<[string, string]> = [
    [BERLIN, '2026-03-29T01:00:00Z'],
    [BERLIN, '2026-10-25T01:00:00Z'],
    [NY, '2026-03-08T07:00:00Z'],
    [NY, '2026-11-01T06:00:00Z'],
    ['Australia/Lord_Howe', '2026-10-03T15:30:00Z'], // 30-minute shift
    ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
    ['America/Santiago', '2026-09-06T04:00:00Z'], // midnight skipped
    ['America/Santiago', '2026-04-05T03:00:00Z'], // midnight repeated
    [MOSCOW, '2026-03-29T00:00:00Z'],
  ];
  const expressions = ['*/15 * * * *', '0 * * * *', '30 2 * * *', '30 1 * * *', '0 0 * * *', '*/7 0-3 * * *', '45 23 * * *', '5 0,2 * * 0,6'];

  it.each(windows)('%s around %s', (tz, center) => {
    const c = Date.parse(center);
    const from = c - 12 * 60 * MINUTE;
    const to = c + 12 * 60 * MINUTE;
    const walls: Array<[number, number]> = [];
    for (let t = from - 24 * 60 * MINUTE; t <= to; t += MINUTE) walls.push([t, wallLuxon(tz, t)]);
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const expr of expressions) {
      const s = parseCron(expr);
      const expected = oracle(s, walls, from, to);
      const got = slotsBetween(s, tz, new Date(from), new Date(to), 10_000).map((d) => d.getTime());
      expect(got.map((t) => new Date(t).toISOString()), `${expr} in ${tz}`).toEqual(expected.map((t) => new Date(t).toISOString()));
      expect(new Set(got).size).toBe(got.length);
      // Random probes: next is the first oracle slot after, latest the last at or before.
      for (let i = 0; i < 10; i++) {
        const probe = from + 60 * MINUTE + Math.floor(rand() * (to - from - 120 * MINUTE));
        const next = expected.find((t) => t > probe);
        const latest = [...expected].reverse().find((t) => t <= probe);
        if (next !== undefined) expect(nextSlot(s, tz, new Date(probe))?.getTime(), `next ${expr} ${new Date(probe).toISOString()}`).toBe(next);
        if (latest !== undefined) expect(latestSlot(s, tz, new Date(probe))?.getTime(), `latest ${expr} ${new Date(probe).toISOString()}`).toBe(latest);
      }
    }
  });
});
