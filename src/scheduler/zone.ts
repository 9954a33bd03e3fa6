/**
 * Time-zone primitives on "wall milliseconds": a local date-time encoded as if it were UTC
 * (`Date.UTC(y, m, d, h, mi, s)`), so calendar arithmetic is plain UTC arithmetic.
 *
 * Offsets come from Intl (the tz database shipped with Node). A zone's offset is constant for long
 * stretches, so offsets are cached per 6-hour bucket when both ends of the bucket agree (no zone
 * has changed its offset twice within six hours, so agreeing ends mean no transition inside).
 */
import { DateTime } from 'luxon';
import { DigestError } from '../errors.js';
import { SCHEDULER_DEFAULTS } from './defaults.js';

const DAY_MS = 86_400_000;
const BUCKET_MS = 6 * 3_600_000;
const MAX_CACHED_BUCKETS = 50_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();
const validity = new Map<string, boolean>();

export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.trim() === '') return false;
  let ok = validity.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      ok = true;
    } catch {
      ok = false;
    }
    validity.set(tz, ok);
  }
  return ok;
}

export function assertTimeZone(tz: string): void {
  if (!isValidTimeZone(tz)) {
    throw new DigestError('E_CONFIG', `unknown time zone "${String(tz)}"`, {
      hint: 'use an IANA time zone name such as Europe/Moscow, Europe/Berlin or UTC',
    });
  }
}

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

const FORMATTED = /^(\d+)\/(\d+)\/(\d+),? (\d+):(\d+):(\d+)$/;

/** Offset (wall − UTC) in ms at instant `t`, straight from Intl. Whole seconds (tzdb granularity). */
function rawOffset(tz: string, t: number): number {
  const whole = t - mod(t, 1000);
  const f = formatter(tz);
  // `format` + a regex is ~3x faster than formatToParts; fall back for exotic output (years < 1000).
  const m = FORMATTED.exec(f.format(whole));
  let wall: number;
  if (m) {
    wall = utc(Number(m[3]), Number(m[1]), Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]));
  } else {
    const p: Record<string, number> = {};
    for (const part of f.formatToParts(whole)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    wall = utc(p.year ?? 1970, p.month ?? 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  }
  return wall - whole;
}

export function offsetMs(tz: string, t: number): number {
  const bucket = Math.floor(t / BUCKET_MS);
  let cache = offsetCache.get(tz);
  if (!cache) {
    cache = new Map();
    offsetCache.set(tz, cache);
  }
  let v = cache.get(bucket);
  if (v === undefined) {
    const start = bucket * BUCKET_MS;
    const a = rawOffset(tz, start);
    const b = rawOffset(tz, start + BUCKET_MS - 1000);
    // NaN marks a bucket containing a transition: those instants are always asked of Intl directly.
    v = a === b ? a : Number.NaN;
    if (cache.size >= MAX_CACHED_BUCKETS) cache.clear();
    cache.set(bucket, v);
  }
  return Number.isNaN(v) ? rawOffset(tz, t) : v;
}

/** Local wall time of instant `t`. */
export function wallOf(tz: string, t: number): number {
  return t + offsetMs(tz, t);
}

/**
 * The first instant whose local wall time is ≥ `wall` — the classic cron mapping:
 * a wall time inside a spring-forward gap maps to the end of the gap, a wall time inside a
 * repeated fall-back hour maps to its first occurrence.
 */
export function instantOfWall(tz: string, wall: number): number {
  const before = offsetMs(tz, wall - DAY_MS);
  const after = offsetMs(tz, wall + DAY_MS);
  let best = Number.POSITIVE_INFINITY;
  for (const o of before === after ? [before] : [before, after]) {
    const t = wall - o;
    if (offsetMs(tz, t) === o && t < best) best = t;
  }
  if (best !== Number.POSITIVE_INFINITY) return best;
  if (after > before) {
    // In the gap: the answer is the transition instant, somewhere in (wall − after, wall − before].
    return firstInstantWithOffsetOtherThan(tz, wall - after, wall - before, before);
  }
  // Two transitions within a day around this wall time (not in the modern tz database).
  return wall - offsetMs(tz, wall - before);
}

/**
 * The greatest wall time shown at any instant ≤ `t`. Equals wallOf(t) except shortly after a
 * fall-back transition, when the clock already showed later times (the first pass of the hour).
 */
export function maxWallUpTo(tz: string, t: number): number {
  const now = offsetMs(tz, t);
  const wall = t + now;
  const earlier = offsetMs(tz, t - DAY_MS);
  if (earlier <= now) return wall;
  const transition = firstInstantWithOffsetOtherThan(tz, t - DAY_MS, t, earlier);
  return Math.max(wall, transition - 1 + earlier);
}

/**
 * Binary search (whole seconds; tzdb transitions are whole seconds) for the first instant in
 * (lo, hi] whose offset differs from `loOffset`, given offset(lo) = loOffset ≠ offset(hi).
 */
function firstInstantWithOffsetOtherThan(tz: string, lo: number, hi: number, loOffset: number): number {
  let a = Math.floor(lo / 1000);
  let b = Math.ceil(hi / 1000);
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (offsetMs(tz, mid * 1000) === loOffset) a = mid;
    else b = mid;
  }
  return b * 1000;
}

/** ISO 8601 with the zone's offset and milliseconds, e.g. `2026-11-24T00:00:00.000+03:00`. */
export function toZonedIso(date: Date, timeZone: string): string {
  assertTimeZone(timeZone);
  const t = date.getTime();
  // Historic LMT offsets have seconds; ISO offsets do not, so print a rounded offset and the
  // matching wall time: the string still parses back to the same instant.
  const offMin = Math.round(offsetMs(timeZone, t) / 60_000);
  const local = new Date(t + offMin * 60_000).toISOString().slice(0, -1);
  const sign = offMin < 0 ? '-' : '+';
  const abs = Math.abs(offMin);
  return `${local}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/**
 * Human display of an instant in a zone. `format` uses luxon tokens
 * (https://moment.github.io/luxon/#/formatting?id=table-of-tokens); the default
 * `yyyy-MM-dd HH:mm ZZ` gives `2026-11-24 09:00 +03:00`. `locale` only matters for name tokens
 * (MMMM, EEEE, ZZZZ…).
 */
export function formatInZone(
  date: Date,
  timeZone: string,
  format: string = SCHEDULER_DEFAULTS.displayFormat,
  locale: string = SCHEDULER_DEFAULTS.displayLocale,
): string {
  assertTimeZone(timeZone);
  return DateTime.fromMillis(date.getTime(), { zone: timeZone, locale }).toFormat(format);
}

export function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

export function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

export function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
