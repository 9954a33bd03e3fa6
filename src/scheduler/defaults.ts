/**
 * Every tunable of the schedule math in one place. Internal: callers get sensible behaviour
 * without passing any of these.
 */
export const SCHEDULER_DEFAULTS = {
  /**
   * How far (in calendar years) `nextSlot`/`latestSlot` look before giving up with `null`.
   * Eight years always contains a 29 February (2096 → 2104 is the longest gap), so ten is safe.
   */
  horizonYears: 10,
  /** Display format for `formatInZone` (luxon tokens): `2026-11-24 09:00 +03:00`. */
  displayFormat: 'yyyy-MM-dd HH:mm ZZ',
  /** Locale for month/day names when a custom display format asks for them. */
  displayLocale: 'en-US',
} as const;
