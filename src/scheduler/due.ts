/**
 * THE rule for which slots of a job run now — the daemon's start, its tick and its sweep, `run-due` and `run-job`
 * all ask here, so "catch-up", "starting deadline" and "resume a started slot" mean one thing everywhere.
 * Pure: the ledger's facts and "now" are arguments.
 *
 * A candidate is a slot s with  lower < s ≤ now  and  now − s ≤ starting_deadline, where `lower` is the newest of
 * the job's last run slot, when it was first seen and what this process already decided (no lower bound when
 * none is known). A candidate after
 * `watchingSince` passed while a scheduler was running (on time); one at or before it was missed (downtime). With
 * no `watchingSince` (a one-shot pass) only the latest slot counts as on time.
 *   catch_up: all     every candidate (the newest `maxCatchUp`)
 *   catch_up: latest  the newest candidate, missed or not
 *   catch_up: none    the newest on-time candidate; missed ones are skipped
 * Separately, a slot already started (interrupted at shutdown, or `running` with its lease over; with
 * `retryFailed` also a failed one) is resumed while within the deadline, whatever catch_up says: it is finishing
 * a slot, not catching up.
 */
import type { CatchUpPolicy } from '../config/index.js';
import type { CronSchedule } from './cron.js';
import { latestSlot, nextSlot } from './slots.js';
import { formatInZone } from './zone.js';

export interface DueJob {
  name: string;
  schedule: CronSchedule;
  timezone: string;
  catchUp: CatchUpPolicy;
  startingDeadlineMs: number;
}

/** The newest run of the job as the ledger has it. */
export interface LastRunFact {
  slot: Date;
  status: 'running' | 'succeeded' | 'failed' | 'skipped' | 'interrupted';
  leaseUntil: Date;
}

export interface LedgerFacts {
  lastRun: LastRunFact | null;
  /** When a daemon first scheduled this job (slots before it were never its to run). */
  firstSeen: Date | null;
  /** Since when a scheduler has been watching (slots after it are on time, not missed); null for a one-shot pass. */
  watchingSince: Date | null;
  /** Slots up to here were already decided by this process (the daemon's tick); null for none. */
  handledUpTo?: Date | null;
}

export interface DuePlan {
  /** A started slot to finish first (its deliveries are kept), or null. */
  resume: Date | null;
  /** New slots to run, ascending. */
  run: Date[];
  /** Candidates the policy left out (catch_up none/latest, or beyond maxCatchUp). */
  skipped: number;
  /** The newest slot at or before now (what `run-job` without --slot runs), or null. */
  latest: Date | null;
  /** Why nothing (or not everything) runs, for `run-due` and logs; empty when every candidate runs. */
  reasons: string[];
}

export interface DueOptions {
  /** Cap for catch_up: all. */
  maxCatchUp: number;
  /** How many candidates are counted at most for `skipped` (a per-second cron after a long downtime). */
  countLimit?: number;
  /** Also resume the last run when it failed (within the deadline): `run-due`'s retry, one attempt per pass. */
  retryFailed?: boolean;
}

/** What to do with a run that is `running` or `interrupted` in the ledger and not ours. */
export type StartedRunAction = 'resume' | 'abandon' | 'wait';

/** Whether a slot may still start now (`starting_deadline`): the one rule for "too late to post". */
export function withinStartingDeadline(slot: Date, startingDeadlineMs: number, now: Date): boolean {
  return now.getTime() - slot.getTime() <= startingDeadlineMs;
}

export function startedRunAction(run: LastRunFact, startingDeadlineMs: number, now: Date): StartedRunAction {
  const handedOver = run.status === 'interrupted' || (run.status === 'running' && run.leaseUntil.getTime() <= now.getTime());
  if (!handedOver) return 'wait';
  return withinStartingDeadline(run.slot, startingDeadlineMs, now) ? 'resume' : 'abandon';
}

export function dueSlots(job: DueJob, facts: LedgerFacts, now: Date, options: DueOptions): DuePlan {
  const t = now.getTime();
  const latest = latestSlot(job.schedule, job.timezone, now);
  const reasons: string[] = [];
  const at = (d: Date) => formatInZone(d, job.timezone);

  let resume: Date | null = null;
  const last = facts.lastRun;
  if (last && (last.status === 'running' || last.status === 'interrupted')) {
    const action = startedRunAction(last, job.startingDeadlineMs, now);
    if (action === 'resume') resume = last.slot;
    else if (action === 'wait') reasons.push(`slot ${at(last.slot)} is being run elsewhere (lease until ${at(last.leaseUntil)})`);
    else reasons.push(`slot ${at(last.slot)} was left unfinished and is past starting_deadline`);
  } else if (last && last.status === 'failed' && options.retryFailed && withinStartingDeadline(last.slot, job.startingDeadlineMs, now)) {
    resume = last.slot;
  }

  const bounds = [last?.slot.getTime(), facts.firstSeen?.getTime(), facts.handledUpTo?.getTime()].filter((x): x is number => x !== undefined);
  const lower = bounds.length > 0 ? Math.max(...bounds) : -Infinity;
  const oldest = t - job.startingDeadlineMs;
  const onTimeAfter = facts.watchingSince ? facts.watchingSince.getTime() : latest ? latest.getTime() - 1 : t;

  // Newest first, walking back from the latest slot: never more than needed, whatever the cron's frequency.
  const limit = Math.max(options.countLimit ?? 1_000, options.maxCatchUp);
  const candidates: number[] = [];
  let more = false;
  for (let s = latest; s !== null; s = latestSlot(job.schedule, job.timezone, new Date(s.getTime() - 1))) {
    const ms = s.getTime();
    if (ms <= lower || ms < oldest) break;
    if (candidates.length >= limit) {
      more = true;
      break;
    }
    candidates.push(ms);
  }

  let chosen: number[];
  if (job.catchUp === 'all') chosen = candidates.slice(0, Math.max(0, options.maxCatchUp));
  else if (job.catchUp === 'latest') chosen = candidates.slice(0, 1);
  else chosen = candidates.length > 0 && candidates[0]! > onTimeAfter ? candidates.slice(0, 1) : [];
  const skipped = candidates.length - chosen.length;

  if (candidates.length === 0 && resume === null) {
    if (!latest) reasons.push('the schedule has no slot yet');
    else if (latest.getTime() <= lower) {
      const next = nextSlot(job.schedule, job.timezone, now);
      const ran = last && last.slot.getTime() === latest.getTime() ? `slot ${at(latest)} already ${last.status}` : `no slot since ${at(new Date(lower))}`;
      reasons.push(`${ran}; next slot ${next ? at(next) : 'none'}`);
    } else reasons.push(`the latest slot ${at(latest)} is older than starting_deadline (${Math.round(job.startingDeadlineMs / 1000)}s)`);
  } else if (skipped > 0) {
    const n = `${skipped}${more ? '+' : ''}`;
    reasons.push(
      job.catchUp === 'all'
        ? `${n} older missed slot(s) beyond the catch-up cap of ${options.maxCatchUp}`
        : `catch_up: ${job.catchUp}: ${n} missed slot(s) not run`,
    );
  }
  // The resumed slot is never also a new one (it is the last run, so it is at or below `lower`).
  return { resume, run: chosen.reverse().map((ms) => new Date(ms)), skipped, latest, reasons };
}
