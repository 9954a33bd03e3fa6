/**
 * Cron grammar and matching on wall-clock time. Slot instants (and DST) live in slots.ts.
 *
 * Grammar: 5 fields `minute hour day-of-month month day-of-week`, or 6 with leading seconds.
 * `*`, lists, ranges, steps (`*\/15`, `1-30/5`, `5/10` = from 5 to the end every 10), month and
 * weekday names (case-insensitive), 0 or 7 = Sunday, `?` = `*` in the day fields, and the macros
 * @yearly @annually @monthly @weekly @daily @midnight @hourly.
 *
 * Day rule (Vixie cron): when both day fields are restricted, a day matches if EITHER matches. A day
 * field counts as unrestricted when it starts with `*` or `?` (so `*\/2` in day-of-month still
 * combines with day-of-week by AND, as in Vixie cron).
 *
 * node-cron's validate() is deliberately not consulted: it rejects valid input such as `5/10`.
 */
import { DigestError } from '../errors.js';
import { utc } from './zone.js';

export type CronField = 'second' | 'minute' | 'hour' | 'day-of-month' | 'month' | 'day-of-week';

export interface CronSchedule {
  /** The expression as written (trimmed). */
  readonly expression: string;
  /** Six fields after macro expansion (seconds first, `0` when the expression had five). */
  readonly fields: readonly [string, string, string, string, string, string];
  readonly hasSeconds: boolean;
  /** Sorted distinct values per field; day-of-week uses 0–6 (0 = Sunday). */
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[];
  readonly months: readonly number[];
  readonly daysOfWeek: readonly number[];
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
}

/** An invalid cron expression. `field` names the offending field when there is one. */
export class CronError extends DigestError {
  readonly field: CronField | undefined;
  declare readonly hint: string;

  constructor(message: string, hint: string, field?: CronField) {
    super('E_CONFIG', message, { hint });
    this.name = 'CronError';
    this.field = field;
  }
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  name: CronField;
  min: number;
  max: number;
  /** Name → value (month and day-of-week). */
  names?: readonly string[];
  namesBase?: number;
  question?: boolean;
}

const SPECS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES, namesBase: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, namesBase: 0, question: true },
];

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const SYNTAX_HINT =
  'use numbers, *, lists (1,15), ranges (1-5) and steps (*/15, 1-30/5), e.g. "0 9 * * 1-5" = 09:00 on weekdays';

function allowed(spec: FieldSpec): string {
  const range = `${spec.min}-${spec.max}`;
  if (spec.names) return `${range} or ${spec.names[0]}-${spec.names[spec.names.length - 1]}`;
  return range;
}

function fieldHint(spec: FieldSpec): string {
  let h = `${spec.name} accepts ${allowed(spec)}`;
  if (spec.name === 'day-of-week') h += ' (0 and 7 are Sunday)';
  if (spec.question) h += ', * or ?';
  else h += ' or *';
  return `${h}; lists (1,2), ranges (1-5) and steps (*/15) combine them`;
}

function parseValue(token: string, spec: FieldSpec): number {
  let v: number;
  if (/^\d+$/.test(token)) {
    v = Number(token);
  } else {
    const idx = spec.names ? spec.names.indexOf(token.toUpperCase()) : -1;
    if (idx < 0) {
      const what = spec.names ? `a ${spec.name === 'month' ? 'month' : 'weekday'} number or name` : 'a number';
      throw new CronError(`${spec.name} "${token}" is not ${what} (allowed: ${allowed(spec)})`, fieldHint(spec), spec.name);
    }
    v = idx + (spec.namesBase ?? 0);
  }
  if (v < spec.min || v > spec.max) {
    throw new CronError(`${spec.name} "${token}" is out of range ${spec.min}-${spec.max}`, fieldHint(spec), spec.name);
  }
  return v;
}

interface ParsedField {
  values: number[];
  /** Starts with `*` or `?` (matters for the day-of-month / day-of-week OR rule). */
  star: boolean;
}

function parseField(text: string, spec: FieldSpec): ParsedField {
  const isDow = spec.name === 'day-of-week';
  // `*` for day-of-week is 0-6: 7 would only repeat Sunday.
  const starMax = isDow ? 6 : spec.max;
  const set = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') {
      throw new CronError(`${spec.name} "${text}" has an empty list item`, fieldHint(spec), spec.name);
    }
    const slash = item.split('/');
    if (slash.length > 2) {
      throw new CronError(`${spec.name} "${item}" has more than one "/"`, fieldHint(spec), spec.name);
    }
    const [base = '', stepText] = slash;
    let lo: number;
    let hi: number;
    if (base === '*' || base === '?') {
      if (base === '?' && !spec.question) {
        throw new CronError(`${spec.name} "?" is only allowed in day-of-month and day-of-week`, fieldHint(spec), spec.name);
      }
      lo = spec.min;
      hi = starMax;
    } else if (base.includes('-')) {
      const parts = base.split('-');
      if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
        throw new CronError(`${spec.name} range "${base}" is malformed (allowed: ${allowed(spec)})`, fieldHint(spec), spec.name);
      }
      lo = parseValue(parts[0]!, spec);
      hi = parseValue(parts[1]!, spec);
      if (lo > hi) {
        throw new CronError(
          `${spec.name} range "${base}" goes backwards (allowed: ${allowed(spec)})`,
          `write the range from low to high, or split a wrap-around into a list (e.g. 22-23,0-2); ${fieldHint(spec)}`,
          spec.name,
        );
      }
    } else if (base === '') {
      throw new CronError(`${spec.name} "${item}" is missing a value before "/"`, fieldHint(spec), spec.name);
    } else {
      lo = parseValue(base, spec);
      // `5/10` means "from 5 to the end, every 10" (as in Quartz and cronie).
      hi = stepText === undefined ? lo : Math.max(lo, starMax);
    }
    let step = 1;
    if (stepText !== undefined) {
      const span = spec.max - spec.min + 1;
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
        throw new CronError(`${spec.name} step "${stepText}" must be a whole number from 1 to ${span}`, fieldHint(spec), spec.name);
      }
      step = Number(stepText);
      if (step > span) {
        throw new CronError(`${spec.name} step "${stepText}" is out of range 1-${span}`, fieldHint(spec), spec.name);
      }
    }
    for (let v = lo; v <= hi; v += step) set.add(isDow && v === 7 ? 0 : v);
  }
  return { values: [...set].sort((a, b) => a - b), star: text.startsWith('*') || text.startsWith('?') };
}

/**
 * Parsed schedules by expression. A schedule is immutable, so jobs that share an expression share
 * one object and its lookup tables (below): a thousand jobs on one schedule were a thousand copies,
 * and every run parsed its schedule again for its period. Bounded, for reloads that change them.
 */
const parsedCache = new Map<string, CronSchedule>();
const PARSED_CACHE_MAX = 4096;

export function parseCron(expression: string): CronSchedule {
  const hit = typeof expression === 'string' ? parsedCache.get(expression) : undefined;
  if (hit) return hit;
  const schedule = parseUncached(expression);
  if (parsedCache.size >= PARSED_CACHE_MAX) parsedCache.delete(parsedCache.keys().next().value!);
  parsedCache.set(expression, schedule);
  return schedule;
}

function parseUncached(expression: string): CronSchedule {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new CronError('cron expression is empty', SYNTAX_HINT);
  }
  const written = expression.trim();
  let text = written;
  if (text.startsWith('@')) {
    const macro = MACROS[text.toLowerCase()];
    if (!macro) {
      throw new CronError(
        `unknown cron macro "${text}"`,
        `supported macros: ${Object.keys(MACROS).join(' ')}; or write five fields, e.g. "0 9 * * 1-5"`,
      );
    }
    text = macro;
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    throw new CronError(
      `cron expression "${written}" has ${parts.length} field${parts.length === 1 ? '' : 's'}; expected 5 (minute hour day-of-month month day-of-week) or 6 (second first)`,
      SYNTAX_HINT,
    );
  }
  const hasSeconds = parts.length === 6;
  const six = (hasSeconds ? parts : ['0', ...parts]) as [string, string, string, string, string, string];
  const parsed = six.map((f, i) => parseField(f, SPECS[i]!));
  const [sec, min, hour, dom, month, dow] = parsed as [ParsedField, ParsedField, ParsedField, ParsedField, ParsedField, ParsedField];
  // Frozen: one object is shared by every job (and run) with this expression.
  return Object.freeze({
    expression: written,
    fields: Object.freeze(six),
    hasSeconds,
    seconds: Object.freeze(sec.values),
    minutes: Object.freeze(min.values),
    hours: Object.freeze(hour.values),
    daysOfMonth: Object.freeze(dom.values),
    months: Object.freeze(month.values),
    daysOfWeek: Object.freeze(dow.values),
    dayOfMonthRestricted: !dom.star,
    dayOfWeekRestricted: !dow.star,
  });
}

// ---------------------------------------------------------------------------------------------
// Matching on wall time

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
