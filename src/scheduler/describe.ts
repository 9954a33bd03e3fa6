/**
 * English description of a schedule for `list` and logs: "every day at 09:00",
 * "at 09:00 on Monday–Friday", "every 15 minutes". Anything too irregular to say briefly falls back
 * to the expression as written — a wrong description is worse than none.
 */
import type { CronSchedule } from './cron.js';
import { pad2 } from './zone.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MAX_TIMES = 6;
const MAX_LIST_ITEMS = 5;

function joinAnd(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Runs of consecutive values: three or more become "a–b", shorter ones stay separate items. */
function rangeItems(values: readonly number[], name: (v: number) => string): string[] {
  const items: string[] = [];
  let i = 0;
  while (i < values.length) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    if (j - i >= 2) items.push(`${name(values[i]!)}–${name(values[j]!)}`);
    else for (let k = i; k <= j; k++) items.push(name(values[k]!));
    i = j + 1;
  }
  return items;
}

function isFull(values: readonly number[], min: number, max: number): boolean {
  return values.length === max - min + 1;
}

/** k when values are min, min+k, min+2k … up to the last that fits (i.e. `*\/k`), else null. */
function stepOf(values: readonly number[], min: number, max: number): number | null {
  if (values.length < 2 || values[0] !== min) return null;
  const k = values[1]! - values[0]!;
  for (let i = 1; i < values.length; i++) if (values[i]! - values[i - 1]! !== k) return null;
  return values[values.length - 1]! + k > max ? k : null;
}

/** A single contiguous run [a, b] of at least two values, else null. */
function singleRange(values: readonly number[]): [number, number] | null {
  if (values.length < 2) return null;
  const a = values[0]!;
  const b = values[values.length - 1]!;
  return b - a + 1 === values.length ? [a, b] : null;
}

function listOrNull(items: string[]): string | null {
  return items.length <= MAX_LIST_ITEMS ? joinAnd(items) : null;
}

/** "" for every day, a phrase like "on Monday–Friday", or null when too irregular. */
function describeDays(s: CronSchedule): string | null {
  const allDom = isFull(s.daysOfMonth, 1, 31);
  const allDow = isFull(s.daysOfWeek, 0, 6);
  const allMonths = isFull(s.months, 1, 12);
  // Monday first: a Saturday+Sunday list reads "Saturday and Sunday", not "Sunday and Saturday".
  const dowKeys = s.daysOfWeek.map((v) => (v + 6) % 7).sort((a, b) => a - b);
  const dowText = listOrNull(rangeItems(dowKeys, (k) => WEEKDAYS[(k + 1) % 7]!));
  const domItems = rangeItems(s.daysOfMonth, String);
  const domText =
    s.daysOfMonth.length === 1 ? `day ${s.daysOfMonth[0]} of the month` : domItems.length <= MAX_LIST_ITEMS ? `days ${joinAnd(domItems)} of the month` : null;
  const monthText = allMonths ? '' : listOrNull(rangeItems(s.months, (m) => MONTHS[m - 1]!));
  if (monthText === null) return null;
  const inMonths = monthText ? ` in ${monthText}` : '';

  if (!allDom && allDow && s.daysOfMonth.length === 1 && s.months.length === 1) {
    return `on ${MONTHS[s.months[0]! - 1]} ${s.daysOfMonth[0]}`;
  }
  let days: string | null;
  if (allDom && allDow) days = '';
  else if (allDom) days = dowText && `on ${dowText}`;
  else if (allDow) days = domText && `on ${domText}`;
  else if (s.dayOfMonthRestricted && s.dayOfWeekRestricted) days = domText && dowText && `on ${domText} or on ${dowText}`;
  else days = null; // AND of two partial day sets (e.g. "*/2" with a weekday): say it as written
  if (days === null) return null;
  if (days === '') return inMonths ? `every day${inMonths}` : '';
  return `${days}${inMonths}`;
}

function clock(h: number, m: number, sec: number, withSeconds: boolean): string {
  return `${pad2(h)}:${pad2(m)}${withSeconds ? `:${pad2(sec)}` : ''}`;
}

/** A fixed set of times of day ("at 09:00 and 18:00"), or null. */
function describeTimes(s: CronSchedule): string | null {
  if (s.seconds.length !== 1 || s.minutes.length * s.hours.length > MAX_TIMES) return null;
  // "every 6 hours" reads better than four clock times; two times ("00:00 and 12:00") read fine.
  if (s.minutes.length === 1 && s.hours.length >= 3 && stepOf(s.hours, 0, 23) !== null) return null;
  const sec = s.seconds[0]!;
  const times: string[] = [];
  for (const h of s.hours) for (const m of s.minutes) times.push(clock(h, m, sec, sec !== 0));
  return `at ${joinAnd(times)}`;
}

/** A repeating frequency ("every 15 minutes", "every hour from 09:00 to 18:00"), or null. */
function describeFrequency(s: CronSchedule): string | null {
  const allHours = isFull(s.hours, 0, 23);
  const hourRange = singleRange(s.hours);
  const secondsMatter = !(s.seconds.length === 1 && s.seconds[0] === 0);
  if (secondsMatter) {
    if (!isFull(s.minutes, 0, 59) || !allHours) return null;
    if (isFull(s.seconds, 0, 59)) return 'every second';
    const k = stepOf(s.seconds, 0, 59);
    return k === null ? null : `every ${k} seconds`;
  }
  let unit: string | null = null;
  if (isFull(s.minutes, 0, 59)) unit = 'every minute';
  else {
    const k = stepOf(s.minutes, 0, 59);
    if (k !== null) unit = `every ${k} minutes`;
  }
  if (unit !== null) {
    if (allHours) return unit;
    if (hourRange) return `${unit} from ${clock(hourRange[0], 0, 0, false)} to ${clock(hourRange[1], 59, 0, false)}`;
    return null;
  }
  if (s.minutes.length !== 1) return null;
  const m = s.minutes[0]!;
  const atMinute = m === 0 ? '' : ` at minute ${m}`;
  if (allHours) return `every hour${atMinute}`;
  const k = stepOf(s.hours, 0, 23);
  if (k !== null) return `every ${k} hours${atMinute}`;
  if (hourRange) return `every hour from ${clock(hourRange[0], m, 0, false)} to ${clock(hourRange[1], m, 0, false)}`;
  return null;
}

export function describeCron(schedule: CronSchedule): string {
  const days = describeDays(schedule);
  if (days === null) return schedule.expression;
  const times = describeTimes(schedule);
  if (times !== null) {
    if (days === '') return `every day ${times}`;
    if (days.startsWith('every day')) return `${days} ${times}`;
    return `${times} ${days}`;
  }
  const freq = describeFrequency(schedule);
  if (freq === null) return schedule.expression;
  return days === '' ? freq : `${freq} ${days}`;
}
