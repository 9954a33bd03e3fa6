/**
 * What collecting a slot's data needs besides the config: its reporting period and the HTTP agent
 * its sources share. The run, the shared fan-out (shared.ts) and replan.ts all rebuild a slot's data
 * the same way; apart from run.ts so they take these without importing the runner, which imports them.
 */
import { createRequire } from 'node:module';
import type { Dispatcher } from 'undici';
import type { JobConfig } from '../config/index.js';
import type { Period } from '../sources/index.js';
import { computePeriod, latestSlot, parseCron, toZonedIso } from '../scheduler/index.js';

const require = createRequire(import.meta.url);
let sharedAgent: Dispatcher | undefined;
/** One keep-alive agent for all HTTP sources; undici is loaded only when a source asks for it. */
export function httpAgent(): Dispatcher {
  if (!sharedAgent) {
    const { Agent } = require('undici') as typeof import('undici');
    sharedAgent = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: 10_000 } });
  }
  return sharedAgent;
}

/** The run's reporting window, in the job's time zone. */
export function periodFor(job: JobConfig, slot: Date, lastSuccessSlot: Date | null): Period {
  const schedule = parseCron(job.schedule);
  const previousSlot = latestSlot(schedule, job.timezone, new Date(slot.getTime() - 1));
  const { start, end } = computePeriod(job.period, {
    slot,
    previousSlot,
    timeZone: job.timezone,
    lastSuccessSlot,
  });
  return { start, end, startIso: toZonedIso(start, job.timezone), endIso: toZonedIso(end, job.timezone), timezone: job.timezone };
}
