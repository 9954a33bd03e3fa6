/**
 * Pure schedule and time math: cron parsing, DST-correct slot instants, report periods, display.
 * "Now" is always an argument; nothing here reads the clock or starts timers.
 */
export { parseCron, CronError } from './cron.js';
export type { CronSchedule, CronField } from './cron.js';
export { nextSlot, latestSlot, nextSlots, slotsBetween } from './slots.js';
export { describeCron } from './describe.js';
export { dueSlots, startedRunAction } from './due.js';
export type { DueJob, DuePlan, DueOptions, LedgerFacts, LastRunFact, StartedRunAction } from './due.js';
export { isValidTimeZone, toZonedIso, formatInZone } from './zone.js';
export { computePeriod } from './period.js';
export type { PeriodContext, Period } from './period.js';
