/**
 * The data period a run reports on, derived from its slot. Calendar presets work on local dates in
 * the job's zone and start at the first instant of each local day, so a period may last 23 or 25
 * hours across a DST change (and days whose midnight is skipped start at the end of the gap).
 */
import type { PeriodPreset } from '../config/index.js';
import { DigestError } from '../errors.js';
import { assertTimeZone, instantOfWall, utc, wallOf } from './zone.js';

const DAY_MS = 86_400_000;

export interface PeriodContext {
  /** The scheduled instant this run is for (not the moment it actually started). */
  slot: Date;
  /** The slot before it, or null when the schedule has none. */
  previousSlot: Date | null;
  timeZone: string;
  /** Slot of the last successful run, for `since_last_success`. */
  lastSuccessSlot?: Date | null;
}

/** Half-open interval [start, end). */
export interface Period {
  start: Date;
  end: Date;
}

function startOfLocalDay(tz: string, y: number, mo: number, d: number): number {
  // Date.UTC normalises overflowing days/months (day 0, month 13…), which the presets rely on.
  return instantOfWall(tz, utc(y, mo, d));
}

export function computePeriod(preset: PeriodPreset, ctx: PeriodContext): Period {
  assertTimeZone(ctx.timeZone);
  const tz = ctx.timeZone;
  const slot = ctx.slot.getTime();
  const prev = ctx.previousSlot ? ctx.previousSlot.getTime() : null;
  // Without a previous slot (first run, or an irregular schedule) a day back is the least surprising span.
  const fallbackStart = prev !== null && prev < slot ? prev : slot - DAY_MS;
  const local = new Date(wallOf(tz, slot));
  const y = local.getUTCFullYear();
  const mo = local.getUTCMonth() + 1;
  const d = local.getUTCDate();
  const span = (start: number, end: number): Period => ({ start: new Date(start), end: new Date(end) });
  switch (preset) {
    case 'slot':
      return span(fallbackStart, slot);
    case 'last_24h':
      return span(slot - DAY_MS, slot);
    case 'since_last_success': {
      const last = ctx.lastSuccessSlot ? ctx.lastSuccessSlot.getTime() : null;
      return span(last !== null && last < slot ? last : fallbackStart, slot);
    }
    case 'previous_day':
      return span(startOfLocalDay(tz, y, mo, d - 1), startOfLocalDay(tz, y, mo, d));
    case 'previous_week': {
      const sinceMonday = (local.getUTCDay() + 6) % 7; // ISO weeks start on Monday
      const monday = d - sinceMonday;
      return span(startOfLocalDay(tz, y, mo, monday - 7), startOfLocalDay(tz, y, mo, monday));
    }
    case 'previous_month':
      return span(startOfLocalDay(tz, y, mo - 1, 1), startOfLocalDay(tz, y, mo, 1));
    default:
      throw new DigestError('E_CONFIG', `unknown period "${String(preset)}"`, {
        hint: 'use one of: slot, previous_day, previous_week, previous_month, last_24h, since_last_success',
      });
  }
}
