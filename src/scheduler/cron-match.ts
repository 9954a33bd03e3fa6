/**
 * Matching a parsed schedule on wall-clock time (the search slots.ts turns into instants). Apart
 * from parsing (cron.ts) because it is a different kind of code, lookup tables and a carry-walking
 * search, and it is the hot path the daemon and catch-up run for every job.
 */
import type { CronSchedule } from './cron.js';
import { utc } from './zone.js';

interface Tables {
  second: Uint8Array;
  minute: Uint8Array;
  hour: Uint8Array;
  dom: Uint8Array;
  month: Uint8Array;
  dow: Uint8Array;
  /** next*[v] = smallest allowed value ≥ v (−1 when none); prev*[v] = largest ≤ v. */
  nextSecond: Int8Array;
  nextMinute: Int8Array;
  nextHour: Int8Array;
  nextMonth: Int8Array;
  prevSecond: Int8Array;
  prevMinute: Int8Array;
  prevHour: Int8Array;
  prevMonth: Int8Array;
  anyDom: boolean;
  anyDow: boolean;
  either: boolean;
}

const tablesCache = new WeakMap<CronSchedule, Tables>();

function mask(values: readonly number[], size: number): Uint8Array {
  const m = new Uint8Array(size);
  for (const v of values) m[v] = 1;
  return m;
}

function nextTable(m: Uint8Array): Int8Array {
  const t = new Int8Array(m.length + 1).fill(-1);
  for (let v = m.length - 1; v >= 0; v--) t[v] = m[v] ? v : t[v + 1]!;
  return t;
}

function prevTable(m: Uint8Array): Int8Array {
  const t = new Int8Array(m.length).fill(-1);
  for (let v = 0; v < m.length; v++) t[v] = m[v] ? v : v > 0 ? t[v - 1]! : -1;
  return t;
}

function tables(s: CronSchedule): Tables {
  let t = tablesCache.get(s);
  if (!t) {
    const second = mask(s.seconds, 60);
    const minute = mask(s.minutes, 60);
    const hour = mask(s.hours, 24);
    const month = mask(s.months, 13);
    t = {
      second,
      minute,
      hour,
      dom: mask(s.daysOfMonth, 32),
      month,
      dow: mask(s.daysOfWeek, 7),
      nextSecond: nextTable(second),
      nextMinute: nextTable(minute),
      nextHour: nextTable(hour),
      nextMonth: nextTable(month),
      prevSecond: prevTable(second),
      prevMinute: prevTable(minute),
      prevHour: prevTable(hour),
      prevMonth: prevTable(month),
      anyDom: s.daysOfMonth.length === 31,
      anyDow: s.daysOfWeek.length === 7,
      either: s.dayOfMonthRestricted && s.dayOfWeekRestricted,
    };
    tablesCache.set(s, t);
  }
  return t;
}

export function daysInMonth(y: number, mo: number): number {
  return new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

function dayMatches(t: Tables, y: number, mo: number, d: number): boolean {
  const domOk = t.dom[d] === 1;
  const dowOk = t.dow[new Date(Date.UTC(y, mo - 1, d)).getUTCDay()] === 1;
  return t.either ? domOk || dowOk : domOk && dowOk;
}

/**
 * The first wall time (whole second) strictly after `afterWall` that the schedule matches, or null
 * within `horizonYears`. Skips whole months, days, hours and minutes that cannot match.
 */
export function nextMatchingWall(s: CronSchedule, afterWall: number, horizonYears: number): number | null {
  return searchWall(s, Math.floor(afterWall / 1000) * 1000 + 1000, 1, horizonYears);
}

/** The last wall time (whole second) at or before `atOrBeforeWall` that matches, or null. */
export function prevMatchingWall(s: CronSchedule, atOrBeforeWall: number, horizonYears: number): number | null {
  return searchWall(s, Math.floor(atOrBeforeWall / 1000) * 1000, -1, horizonYears);
}

/**
 * The one search behind both directions: from `fromWall` (a whole second, itself a candidate),
 * walking forward (`step` 1) or backward (−1). A field that cannot match jumps to the nearest
 * allowed value in the walking direction (the next and prev tables); one with none left carries into the
 * next larger field, and the smaller fields restart at the end the walk enters from (0 forward,
 * their maximum backward).
 */
function searchWall(s: CronSchedule, fromWall: number, step: 1 | -1, horizonYears: number): number | null {
  const t = tables(s);
  const fwd = step === 1;
  const near = fwd
    ? { second: t.nextSecond, minute: t.nextMinute, hour: t.nextHour, month: t.nextMonth }
    : { second: t.prevSecond, minute: t.prevMinute, hour: t.prevHour, month: t.prevMonth };
  const [secStart, minStart, hourStart] = fwd ? [0, 0, 0] : [59, 59, 23];
  const dayStart = (year: number, month: number) => (fwd ? 1 : daysInMonth(year, month));
  const start = new Date(fromWall);
  let y = start.getUTCFullYear();
  let mo = start.getUTCMonth() + 1;
  let d = start.getUTCDate();
  let h = start.getUTCHours();
  let mi = start.getUTCMinutes();
  let sec = start.getUTCSeconds();
  const limitYear = y + step * horizonYears;
  const restartDay = () => {
    h = hourStart;
    mi = minStart;
    sec = secStart;
  };
  const stepDay = () => {
    d += step;
    restartDay();
    if (d < 1 || d > daysInMonth(y, mo)) {
      mo += step;
      if (mo < 1 || mo > 12) {
        mo = fwd ? 1 : 12;
        y += step;
      }
      d = dayStart(y, mo);
    }
  };
  /** Carry into the hour (and the day past its last hour), with minutes and seconds restarted. */
  const stepHour = () => {
    h += step;
    mi = minStart;
    sec = secStart;
    if (h < 0 || h > 23) stepDay();
  };
  for (;;) {
    if (fwd ? y > limitYear : y < limitYear) return null;
    if (!t.month[mo]) {
      const m = near.month[mo]!;
      if (m < 1) {
        y += step;
        mo = near.month[fwd ? 1 : 12]!;
      } else mo = m;
      d = dayStart(y, mo);
      restartDay();
      continue;
    }
    if (!dayMatches(t, y, mo, d)) {
      stepDay();
      continue;
    }
    if (!t.hour[h]) {
      const nh = near.hour[h]!;
      if (nh < 0) {
        stepDay();
        continue;
      }
      h = nh;
      mi = minStart;
      sec = secStart;
    }
    if (!t.minute[mi]) {
      const nm = near.minute[mi]!;
      if (nm < 0) {
        stepHour();
        continue;
      }
      mi = nm;
      sec = secStart;
    }
    if (!t.second[sec]) {
      const ns = near.second[sec]!;
      if (ns < 0) {
        mi += step;
        sec = secStart;
        if (mi < 0 || mi > 59) stepHour();
        continue;
      }
      sec = ns;
    }
    return utc(y, mo, d, h, mi, sec);
  }
}
