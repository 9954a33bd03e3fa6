/**
 * Slot instants. A slot is a matching wall-clock time mapped to ONE instant: the first instant
 * whose local wall time is ≥ it (classic cron). So a slot inside a spring-forward gap runs at the
 * end of the gap (several such slots collapse into that one instant), and a slot inside the
 * repeated fall-back hour runs once, at its first occurrence.
 *
 * That mapping is monotone, which gives both searches exactly:
 *   slot(W) > t  ⇔  W > maxWallUpTo(t)        (the greatest wall time shown at or before t)
 * so "next after t" is the first matching W above that bound and "latest at or before t" the last
 * matching W at or below it. No second-by-second iteration anywhere.
 */
import { DigestError } from '../errors.js';
import type { CronSchedule } from './cron.js';
import { nextMatchingWall, prevMatchingWall } from './cron.js';
import { SCHEDULER_DEFAULTS } from './defaults.js';
import { assertTimeZone, instantOfWall, maxWallUpTo } from './zone.js';

function ms(date: Date, what: string): number {
  const t = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(t)) throw new DigestError('E_USAGE', `${what} is not a valid date`, { hint: 'pass a Date object' });
  return t;
}

function nextAfter(schedule: CronSchedule, timeZone: string, t: number): number | null {
  const wall = nextMatchingWall(schedule, maxWallUpTo(timeZone, t), SCHEDULER_DEFAULTS.horizonYears);
  return wall === null ? null : instantOfWall(timeZone, wall);
}

/** The first slot strictly after `after`, or null when none within the search horizon. */
export function nextSlot(schedule: CronSchedule, timeZone: string, after: Date): Date | null {
  assertTimeZone(timeZone);
  const t = nextAfter(schedule, timeZone, ms(after, 'after'));
  return t === null ? null : new Date(t);
}

/** The last slot at or before `atOrBefore`, or null when none within the search horizon. */
export function latestSlot(schedule: CronSchedule, timeZone: string, atOrBefore: Date): Date | null {
  assertTimeZone(timeZone);
  const bound = maxWallUpTo(timeZone, ms(atOrBefore, 'atOrBefore'));
  const wall = prevMatchingWall(schedule, bound, SCHEDULER_DEFAULTS.horizonYears);
  return wall === null ? null : new Date(instantOfWall(timeZone, wall));
}

/** The next `count` slots after `after`, ascending (fewer when the horizon runs out). */
export function nextSlots(schedule: CronSchedule, timeZone: string, after: Date, count: number): Date[] {
  assertTimeZone(timeZone);
  const out: Date[] = [];
  let t = ms(after, 'after');
  while (out.length < count) {
    const next = nextAfter(schedule, timeZone, t);
    if (next === null) break;
    out.push(new Date(next));
    t = next;
  }
  return out;
}

/** Slots in (afterExclusive, atOrBeforeInclusive], ascending, at most `limit` of them (the earliest). */
export function slotsBetween(
  schedule: CronSchedule,
  timeZone: string,
  afterExclusive: Date,
  atOrBeforeInclusive: Date,
  limit: number,
): Date[] {
  assertTimeZone(timeZone);
  const end = ms(atOrBeforeInclusive, 'atOrBeforeInclusive');
  const out: Date[] = [];
  let t = ms(afterExclusive, 'afterExclusive');
  while (out.length < limit) {
    const next = nextAfter(schedule, timeZone, t);
    if (next === null || next > end) break;
    out.push(new Date(next));
    t = next;
  }
  return out;
}
