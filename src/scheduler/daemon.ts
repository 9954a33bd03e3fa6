/**
 * The thin loop that owns the timers. Which slots exist is decided by the pure functions in
 * this folder; which of them actually run is decided by the ledger's atomic claim.
 *
 * Each job is also scheduled with node-cron in its own time zone, and a node-cron firing simply
 * wakes the loop. node-cron alone would drop a slot in the DST spring-forward gap (and rejects
 * some valid syntax, e.g. `5/10`), so the loop's own timer, aimed at the next slot computed
 * purely, stays as the safety net: whichever wakes first runs the due slots; the other finds
 * nothing due.
 */
import { DigestError } from '../errors.js';
import type { JobConfig } from '../config/index.js';
import type { DigestEmitter } from '../events.js';
import type { Logger } from '../observability/index.js';
import type { StateStore } from '../state/index.js';
import { dueSlots, startedRunAction, withinStartingDeadline } from './due.js';
import { nextSlot, parseCron, type CronSchedule } from './index.js';
import { CronWakeups } from './cron-wake.js';
import { RunHandle, RunPool } from './run-pool.js';

export interface DaemonRunResult {
  status: string;
}

export interface DaemonOptions {
  jobs: JobConfig[];
  store: StateStore;
  /** Runs one slot (claim, collect, render, deliver). Must not throw for job failures. */
  run: (job: JobConfig, slot: Date, options: { signal: AbortSignal; retryFailed: boolean }) => Promise<DaemonRunResult>;
  events: DigestEmitter;
  logger: Logger;
  now?: () => Date;
  /** Wake up at least this often, so wall-clock jumps (suspend, NTP) are noticed. */
  maxSleepMs?: number;
  /** How long `stop()` waits for runs in flight before cancelling them. */
  shutdownGraceMs?: number;
  /** Cap for catch_up: all. */
  maxCatchUp?: number;
  /** Runs executing at once across all jobs; more wait their turn (default 16). */
  maxConcurrentRuns?: number;
  /** How often the ledger is checked for runs a dead process left `running`. */
  sweepIntervalMs?: number;
  /** Wake up through node-cron tasks too (default true); the pure-slot timer runs either way. */
  nodeCron?: boolean;
}

interface JobState {
  job: JobConfig;
  schedule: CronSchedule;
  next: Date | null;
  /** Slots up to here were decided by this process (start-up catch-up or a tick). */
  handled: Date;
  running: Map<number, RunHandle>;
  /** Slots whose run threw before the ledger knew of it (a claim that gave up): the sweep tries them again. */
  unclaimed: Set<number>;
  /** Start-up catch-up could not read the ledger: the sweep tries it again. */
  catchUpPending: boolean;
}

export const DAEMON_DEFAULTS = {
  maxSleepMs: 60_000,
  shutdownGraceMs: 30_000,
  maxCatchUp: 100,
  maxConcurrentRuns: 16,
  sweepIntervalMs: 60_000,
} as const;

export class Daemon {
  readonly #opts: Required<Pick<DaemonOptions, 'maxSleepMs' | 'shutdownGraceMs' | 'maxCatchUp' | 'maxConcurrentRuns' | 'sweepIntervalMs'>> & DaemonOptions;
  #states = new Map<string, JobState>();
  /** node-cron wake-ups, one per distinct (schedule, time zone). */
  readonly #cron: CronWakeups;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retryTimers = new Set<ReturnType<typeof setTimeout>>();
  #inflight = new Set<Promise<unknown>>();
  /** At most maxConcurrentRuns runs at once; a run waiting for a place counts as running for the overlap policies. */
  readonly #pool: RunPool;
  #lastSweep = 0;
  #stopped = false;
  #runSeq = 0;
  /** Slots after this passed while the loop was running: on time, not missed. */
  #watchingSince: Date;
  lastTick: Date | null = null;

  constructor(options: DaemonOptions) {
    this.#opts = { ...DAEMON_DEFAULTS, ...options };
    this.#cron = new CronWakeups(() => this.#tick());
    this.#pool = new RunPool(this.#opts.maxConcurrentRuns);
    this.#watchingSince = this.now;
    this.#setJobs(options.jobs);
  }

  get now(): Date {
    return this.#opts.now ? this.#opts.now() : new Date();
  }

  get running(): number {
    let n = 0;
    for (const s of this.#states.values()) n += s.running.size;
    return n;
  }

  /** Next run time per enabled job (for `list`, metrics and the sandbox's Jobs view). */
  nextRuns(): Array<{ job: string; at: Date | null }> {
    return [...this.#states.values()].map((s) => ({ job: s.job.name, at: s.next }));
  }

  async start(): Promise<void> {
    await this.#catchUp();
    if (this.#stopped) return;
    this.#cron.start();
    this.#tick();
  }

  /** Swap the job list (SIGHUP reload). Runs in flight keep going with their old definition. */
  reload(jobs: JobConfig[]): void {
    const old = this.#states;
    this.#setJobs(jobs);
    const now = this.now;
    for (const [name, s] of this.#states) {
      const prev = old.get(name);
      if (!prev) {
        // A job added by a reload is scheduled from now on; marking it seen means a later restart
        // catches up its missed slots instead of treating it as brand new.
        this.#track(this.#opts.store.getFlag(`first-seen:${name}`).then((f) => (f ? undefined : this.#opts.store.setFlag(`first-seen:${name}`, now.toISOString()))).catch(() => undefined));
        continue;
      }
      s.running = prev.running;
      s.handled = prev.handled;
      s.unclaimed = prev.unclaimed;
      s.catchUpPending = prev.catchUpPending;
      // An unchanged schedule keeps its pending slot: recomputed from "now", a slot that is due but
      // whose timer has not fired yet (the reload landed in between) would be skipped.
      if (prev.job.schedule === s.job.schedule && prev.job.timezone === s.job.timezone) s.next = prev.next;
    }
    if (!this.#stopped) {
      this.#cron.start();
      this.#tick();
    }
  }

  /**
   * Stop claiming, give runs in flight `shutdownGraceMs` to finish, then interrupt what is left: the pipeline hands
   * those claims back as `interrupted`, so the next process (or a replica, at its next sweep) sends only what is
   * missing. Nothing is recorded as failed because the process stopped.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cron.stop();
    if (this.#timer) clearTimeout(this.#timer);
    for (const t of this.#retryTimers) clearTimeout(t);
    this.#retryTimers.clear();
    if (this.#inflight.size === 0 && !this.#pool.busy) return;
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<'timeout'>((resolve) => {
      graceTimer = setTimeout(() => resolve('timeout'), this.#opts.shutdownGraceMs);
    });
    const result = await Promise.race([Promise.allSettled([...this.#inflight, this.#pool.idle()]).then(() => 'done' as const), grace]);
    clearTimeout(graceTimer);
    if (result === 'timeout') {
      this.#opts.logger.warn({ running: this.running, graceMs: this.#opts.shutdownGraceMs }, 'shutdown grace period over: handing runs in flight back');
      const reason = new DigestError('E_INTERRUPTED', `the process stopped after a shutdown grace of ${Math.round(this.#opts.shutdownGraceMs / 1000)}s`, {
        hint: 'the next daemon start (or another replica) finishes the slot, sending only the messages still missing',
      });
      for (const s of this.#states.values()) for (const c of s.running.values()) c.abort(reason);
      await Promise.allSettled([...this.#inflight, this.#pool.idle()]);
    }
  }

  #setJobs(jobs: JobConfig[]): void {
    const now = this.now;
    this.#cron.stop();
    this.#states = new Map();
    for (const job of jobs) {
      if (!job.enabled) continue;
      const schedule = parseCron(job.schedule);
      const state: JobState = { job, schedule, next: nextSlot(schedule, job.timezone, now), handled: now, running: new Map(), unclaimed: new Set(), catchUpPending: false };
      if (this.#opts.nodeCron !== false) this.#cron.add(job);
      this.#states.set(job.name, state);
    }
  }

  /**
   * At start: slots missed while the daemon was down (found from the ledger; never a storm), and
   * runs a crashed process left `running`. Each job catches up on its own chain, in slot order, so
   * a slow one holds back neither the other jobs nor the timers.
   */
  async #catchUp(): Promise<void> {
    const now = this.now;
    for (const s of this.#states.values()) await this.#catchUpJob(s, now);
  }

  async #catchUpJob(s: JobState, now: Date): Promise<void> {
    let plan: Date[];
    try {
      plan = await this.#recoverySlots(s, now);
    } catch (err) {
      // A ledger outage at start must not cost the missed slots: the next sweep asks again.
      s.catchUpPending = true;
      this.#opts.logger.error({ job: s.job.name, err: err instanceof Error ? err.message : String(err) }, 'could not read the ledger for catch-up: retrying at the next sweep');
      return;
    }
    if (plan.length === 0) return;
    this.#track(
      (async () => {
        for (const slot of plan) {
          if (this.#stopped) return;
          await this.#launch(s, slot, false, true);
        }
      })(),
    );
  }

  /** What start-up or a run could not do because the ledger was unavailable, tried again while still in time. */
  #revisit(now: Date): void {
    for (const s of this.#states.values()) {
      if (s.catchUpPending) {
        s.catchUpPending = false;
        this.#track(this.#catchUpJob(s, now));
      }
      for (const ms of [...s.unclaimed]) {
        s.unclaimed.delete(ms);
        const slot = new Date(ms);
        if (withinStartingDeadline(slot, s.job.startingDeadlineMs, now)) {
          this.#opts.logger.info({ job: s.job.name, slot: slot.toISOString() }, 'trying again a slot that could not be claimed');
          void this.#launch(s, slot, false, false);
        }
      }
    }
  }

  async #recoverySlots(s: JobState, now: Date): Promise<Date[]> {
    const { job } = s;
    const store = this.#opts.store;
    const last = await store.lastRun(job.name);
    const seenKey = `first-seen:${job.name}`;
    let firstSeen = await store.getFlag(seenKey);
    if (!firstSeen) {
      // A job that never ran has missed nothing: no past slot on its first start. One that ran
      // before (run-job, run-due, another replica) is known from its runs.
      firstSeen = (last ? last.slot : now).toISOString();
      await store.setFlag(seenKey, firstSeen);
      if (!last) return [];
    }
    // Everything that passed before this start was missed (watchingSince = now): catch_up decides.
    const due = dueSlots(
      { name: job.name, schedule: s.schedule, timezone: job.timezone, catchUp: job.catchUp, startingDeadlineMs: job.startingDeadlineMs },
      { lastRun: last, firstSeen: new Date(firstSeen), watchingSince: now },
      now,
      { maxCatchUp: this.#opts.maxCatchUp },
    );
    if (due.run.length > 0 || due.skipped > 0) {
      this.#opts.logger.info(
        { job: job.name, missed: due.run.length + due.skipped, running: due.run.map((d) => d.toISOString()), policy: job.catchUp },
        'catching up missed slots',
      );
    }
    return due.resume ? [due.resume, ...due.run] : due.run;
  }

  /**
   * While running: a run another process left `running` (a replica that died) is taken over once
   * its lease is over. Cheap: one ledger read every `sweepIntervalMs`.
   */
  async #sweepStale(): Promise<void> {
    const now = this.now;
    this.#revisit(now);
    let runs;
    try {
      runs = await this.#opts.store.history({ limit: 200 });
    } catch (err) {
      this.#opts.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not read the ledger for stale runs');
      return;
    }
    for (const r of runs) {
      if (r.status !== 'running' && r.status !== 'interrupted') continue;
      const s = this.#states.get(r.job);
      if (!s || s.running.size > 0) continue;
      const action = startedRunAction(r, s.job.startingDeadlineMs, now);
      if (action === 'wait') continue;
      if (action === 'abandon') {
        // Too late to post: close it as failed so it stops showing as running (and can be pruned).
        await this.#opts.store
          .finish(r.id, {
            status: 'failed',
            now,
            error: {
              code: 'E_ABORTED',
              message: `abandoned: the process running it (${r.owner}) stopped, and the slot is past starting_deadline`,
              hint: 'Nothing more is sent for this slot; `run-job <job> --slot <slot> --force` sends it deliberately.',
            },
          })
          .catch((err) => this.#opts.logger.warn({ job: r.job, err: err instanceof Error ? err.message : String(err) }, 'could not close an abandoned run'));
        continue;
      }
      this.#opts.logger.warn({ job: r.job, slot: r.slot.toISOString(), owner: r.owner }, 'taking over a run whose process stopped renewing its lease');
      void this.#launch(s, r.slot, false, false);
    }
  }

  #track(p: Promise<unknown>): void {
    const tracked = p.finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
  }

  #tick(): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    const now = this.now;
    this.lastTick = now;
    if (now.getTime() - this.#lastSweep >= this.#opts.sweepIntervalMs) {
      this.#lastSweep = now.getTime();
      this.#track(this.#sweepStale());
    }
    this.#opts.events.emit('scheduler:tick', { at: now });
    for (const s of this.#states.values()) {
      // `next` is only the cheap "anything due?" check; which slots run is the one rule in due.ts.
      if (s.next && s.next.getTime() <= now.getTime()) {
        const { job } = s;
        const due = dueSlots(
          { name: job.name, schedule: s.schedule, timezone: job.timezone, catchUp: job.catchUp, startingDeadlineMs: job.startingDeadlineMs },
          { lastRun: null, firstSeen: null, watchingSince: this.#watchingSince, handledUpTo: s.handled },
          now,
          { maxCatchUp: this.#opts.maxCatchUp },
        );
        s.handled = now;
        s.next = nextSlot(s.schedule, job.timezone, now);
        for (const slot of due.run) void this.#launch(s, slot, false, false);
      }
      this.#opts.events.emit('scheduler:next', { job: s.job.name, at: s.next });
    }
    // Wake for the next slot, the next sweep for abandoned runs, or at least every maxSleepMs.
    let wake = Math.min(this.#opts.maxSleepMs, Math.max(0, this.#lastSweep + this.#opts.sweepIntervalMs - now.getTime()));
    for (const s of this.#states.values()) {
      if (s.next) wake = Math.min(wake, Math.max(0, s.next.getTime() - now.getTime()));
    }
    this.#timer = setTimeout(() => this.#tick(), wake);
  }

  async #launch(s: JobState, slot: Date, retryFailed: boolean, awaitIt: boolean, attempt = 0): Promise<void> {
    if (this.#stopped) return;
    const { job } = s;
    if (s.running.size > 0) {
      if (job.concurrency === 'forbid') {
        this.#opts.logger.warn({ job: job.name, slot: slot.toISOString() }, 'previous run still in progress: slot skipped (concurrency: forbid)');
        await this.#recordSkipped(job, slot, 'previous run still in progress (concurrency: forbid)');
        return;
      }
      if (job.concurrency === 'replace') {
        for (const c of s.running.values()) c.abort();
      }
    }
    const id = ++this.#runSeq;
    // Cancelled while it waits, it stops counting as running at once; its turn in the pool is then a no-op.
    const handle = new RunHandle(() => s.running.delete(id));
    s.running.set(id, handle);
    let finished: (() => void) | undefined;
    const done = awaitIt ? new Promise<void>((resolve) => (finished = resolve)) : undefined;
    this.#pool.add(async () => {
      try {
        await this.#execute(s, slot, retryFailed, attempt, handle);
      } finally {
        s.running.delete(id);
        finished?.();
      }
    });
    if (done) await done;
  }

  async #execute(s: JobState, slot: Date, retryFailed: boolean, attempt: number, handle: RunHandle): Promise<void> {
    const { job } = s;
    // Stopping means no new claims: a run still waiting for a place does not start.
    if (handle.aborted || this.#stopped) return;
    try {
      const r = await this.#opts.run(job, slot, { signal: handle.start(), retryFailed });
      if (r.status === 'failed' && attempt < job.retries.count && !this.#stopped) {
        const delay = job.retries.backoffMs * 2 ** attempt;
        this.#opts.logger.info({ job: job.name, slot: slot.toISOString(), retryInMs: delay, attempt: attempt + 1 }, 'run failed: retrying');
        const t = setTimeout(() => {
          this.#retryTimers.delete(t);
          void this.#launch(this.#states.get(job.name) ?? s, slot, true, false, attempt + 1);
        }, delay);
        this.#retryTimers.add(t);
      }
    } catch (err) {
      // The run threw instead of returning an outcome: its claim (or first record) never reached the ledger.
      this.#opts.logger.error({ job: job.name, slot: slot.toISOString(), err: err instanceof Error ? err.stack : String(err) }, 'run crashed');
      if (!this.#stopped) (this.#states.get(job.name) ?? s).unclaimed.add(slot.getTime());
    }
  }

  async #recordSkipped(job: JobConfig, slot: Date, reason: string): Promise<void> {
    try {
      const claim = await this.#opts.store.claim(job.name, slot, { owner: `skip:${process.pid}`, leaseMs: 60_000, now: this.now });
      if (claim.claimed) await this.#opts.store.finish(claim.run.id, { status: 'skipped', now: this.now, reason });
    } catch (err) {
      this.#opts.logger.warn({ job: job.name, err: String(err) }, 'could not record the skipped slot');
    }
  }
}
