/**
 * Cron grammar: parsing an expression into a schedule. Matching it on wall-clock time is in
 * cron-match.ts, slot instants (and DST) in slots.ts.
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

// Re-exported: slots.ts and the tests take the search from here, with the schedule it walks.
export { daysInMonth, nextMatchingWall, prevMatchingWall } from './cron-match.js';
