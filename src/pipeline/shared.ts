/**
 * A big fan-out split across the replicas of one ledger (the ledger's side: state/fanout.ts).
 *
 * The process that claimed the slot publishes what the messages are rendered from (the collected
 * metrics, the render clock, the period) and delivers the fan-out in chunks of items it takes
 * from the ledger; every replica that finds the slot running elsewhere takes chunks too,
 * rendering the same messages from the published plan and recording into the same run. The
 * claimant waits for the chunks others hold, takes over those whose taker died (the lease runs
 * out), and finishes the run. A re-taken chunk is delivered with the re-check ("did it land?"),
 * so a helper killed mid-chunk costs at most its in-flight messages' look-ups, never a duplicate.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { DigestError } from '../errors.js';
import type { JobConfig } from '../config/index.js';
import type { FanoutChunk, RunRecord, StateStore } from '../state/index.js';
import { withLedgerRetry } from '../state/index.js';
import { deliver } from './deliver.js';
import { ProgressReporter, unsubscribedUsers } from './fanout.js';
import { baseContext, planItemCount, streamMessages, streamPlan, type RenderContext } from './plan.js';
import { throwIfAborted, toDigestError } from './errors.js';
import type { RunOutcome, RunnerDeps } from './run.js';
import { periodFor } from './run-inputs.js';

/** Fan-outs of fewer items stay in one process: the ledger round-trips would cost more than they split. */
export const SHARE_MIN_ITEMS = 200;
/** How often a replica looks whether a running slot's fan-out is open for help, and the claimant whether others are done. */
const POLL_MS = 1_000;

/** Chunks of ~1 % of the list, 25..100 items: small enough that replicas end together, few enough to be cheap. */
export function chunkSizeFor(items: number): number {
  return Math.max(25, Math.min(100, Math.ceil(items / 100)));
}

/**
 * Which jobs split: a streamed fan-out (`for_each`, no attachments: those are rendered up front) that
 * posts. `delivery: update` edits under per-message locks and stays with the claimant.
 */
export function shareable(job: JobConfig): boolean {
  return Boolean(job.forEach) && !job.attachments?.length && job.delivery !== 'update';
}

/** What helpers render from: JSON, so the claimant renders from the same round-tripped values they do. */
interface PublishedPlan {
  metrics: unknown;
  now: string;
  previousSlot: string | null;
  /** A forced re-run posts again on purpose: helpers must not "find" the earlier posts either. */
  force: boolean;
}

export function publishablePlan(context: RenderContext, previousRun: RunRecord | null, force: boolean): { text: string; context: RenderContext } {
  const text = JSON.stringify({ metrics: context.metrics ?? null, now: context.now.toISOString(), previousSlot: previousRun?.slot.toISOString() ?? null, force } satisfies PublishedPlan);
  const parsed = JSON.parse(text) as PublishedPlan;
  return { text, context: { ...context, metrics: parsed.metrics } };
}

interface ChunkWork {
  deps: RunnerDeps;
  job: JobConfig;
  context: RenderContext;
  store: StateStore;
  /** The slot's run as this process knows it (id = the claim token; deliveries of earlier attempts). */
  run: RunRecord;
  previousRun: RunRecord | null;
  outcome: RunOutcome;
  signal: AbortSignal;
  deadline: number;
  progress: ProgressReporter;
  skip: ReadonlySet<number>;
  force: boolean;
}

/** Takes and delivers chunks until none is free; returns messages delivered and chunks done. A failed chunk throws. */
async function workChunks(w: ChunkWork): Promise<{ sent: number; chunks: number }> {
  const { store, run, deps } = w;
  const leaseMs = deps.config.state.leaseMs;
  let sent = 0;
  let chunks = 0;
  for (;;) {
    throwIfAborted(w.signal);
    const chunk = await withLedgerRetry(() => store.fanout.take(run.id, deps.owner, leaseMs, new Date()), { until: Date.now() + leaseMs, signal: w.signal });
    if (!chunk) return { sent, chunks };
    const n = await deliverChunk(w, chunk);
    if (n === null) continue;
    sent += n;
    chunks++;
  }
}

/** One chunk, its lease kept alive while it posts; null when the lease was lost (another replica has it now). */
async function deliverChunk(w: ChunkWork, chunk: FanoutChunk): Promise<number | null> {
  const { store, run, deps } = w;
  const leaseMs = deps.config.state.leaseMs;
  const lost = new DigestError('E_STATE', `lost chunk ${chunk.chunk} of ${w.job.name} ${w.outcome.slot.toISOString()} to another replica`);
  const controller = new AbortController();
  const onAbort = () => controller.abort(w.signal.reason);
  w.signal.addEventListener('abort', onAbort, { once: true });
  const renew = setInterval(() => {
    store.fanout.renew(run.id, chunk.chunk, deps.owner, new Date(Date.now() + leaseMs)).then(
      (ok) => {
        if (!ok) controller.abort(lost);
      },
      () => undefined,
    );
  }, Math.max(500, Math.floor(leaseMs / 3)));
  renew.unref?.();
  try {
    // A chunk taken before may hold messages its last taker posted: they are in the ledger (or looked for).
    const known = chunk.takes > 1 ? ((await store.getRun(w.job.name, w.outcome.slot)) ?? run) : run;
    if (known.id !== run.id) throw lost;
    const counts = { empty: 0 };
    const planned = streamMessages(streamPlan(w.job, w.context, counts, w.deadline, { from: chunk.from, to: chunk.to }));
    const n = await deliver(deps, w.job, planned, (chunk.to - chunk.from) * w.job.targets.length, known, store, w.outcome, controller.signal, w.previousRun, w.force, {
      progress: w.progress,
      skip: w.skip,
      recheck: chunk.takes > 1,
    });
    await withLedgerRetry(() => store.fanout.complete(run.id, chunk.chunk, deps.owner, { sent: n }), { until: Date.now() + leaseMs, signal: w.signal });
    return n;
  } catch (err) {
    const e = toDigestError(err, controller.signal);
    if (e === lost) return null;
    if (!w.signal.aborted) {
      const error = { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
      await store.fanout.complete(run.id, chunk.chunk, deps.owner, { sent: 0, error }).catch(() => undefined);
    }
    throw e;
  } finally {
    clearInterval(renew);
    w.signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The claimant's delivery of a fan-out it shares: publish the plan, work chunks, then wait for the
 * others' (taking over any whose lease ran out). Returns the messages delivered by everyone.
 */
export async function deliverShared(
  w: Omit<ChunkWork, 'progress' | 'skip' | 'context'> & { context: RenderContext; planText: string; total: number },
): Promise<number> {
  const { store, run } = w;
  const items = planItemCount(w.job, w.context);
  const published = await withLedgerRetry(() => store.fanout.publish(run.id, { items, chunkSize: chunkSizeFor(items), plan: w.planText, now: new Date() }), {
    until: Date.now() + w.deps.config.state.leaseMs,
    signal: w.signal,
  });
  if (!published) throw new DigestError('E_STATE', `lost the claim on ${w.job.name} ${w.outcome.slot.toISOString()} before its fan-out started`);
  const progress = new ProgressReporter(w.deps.events, w.job.name, w.outcome.slot, w.total);
  const work: ChunkWork = { ...w, progress, skip: await unsubscribedUsers(store, w.job.name) };
  progress.start();
  try {
    let own = 0;
    for (;;) {
      own += (await workChunks(work)).sent;
      const p = await withLedgerRetry(() => store.fanout.progress(run.id, new Date()), { until: Date.now() + w.deps.config.state.leaseMs, signal: w.signal });
      progress.elsewhere(p.sent - own);
      if (p.error) throw new DigestError(p.error.code as DigestError['code'], p.error.message, p.error.hint ? { hint: p.error.hint } : {});
      if (p.open + p.taken + p.expired === 0) {
        if (p.sent > own) w.outcome.notes.push(`${p.sent - own} of the ${p.sent} messages were delivered by other replicas sharing the fan-out`);
        return p.sent;
      }
      if (p.open + p.expired === 0) await delay(POLL_MS, undefined, { signal: w.signal }).catch(() => throwIfAborted(w.signal));
    }
  } finally {
    progress.stop();
    await store.fanout.drop(run.id).catch(() => undefined);
  }
}

export interface HelpResult {
  sent: number;
  chunks: number;
}

/**
 * A replica that found the slot running elsewhere: while that run is alive, wait for its fan-out
 * to open and deliver chunks of it. Null when there was nothing to help with (not a shared
 * fan-out, the run ended, or its claimant died: its takeover is the sweep's business).
 */
export async function helpFanout(
  deps: RunnerDeps,
  job: JobConfig,
  slot: Date,
  store: StateStore,
  signal: AbortSignal,
  deadline: number,
  /** Receives what this process delivered. */
  outcome: RunOutcome,
): Promise<HelpResult | null> {
  let state = await store.fanout.state(job.name, slot);
  for (;;) {
    if (signal.aborted || !state || state.status !== 'running' || state.leaseUntil.getTime() < Date.now()) return null;
    if (state.fanout) break;
    await delay(POLL_MS, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return null;
    state = await store.fanout.state(job.name, slot);
  }
  const text = await store.fanout.plan(state.runId);
  if (text === null) return null;
  const plan = JSON.parse(text) as PublishedPlan;
  const previousRun = await store.lastSuccess(job.name, slot);
  // Another slot succeeded in between (a backfill): this replica would render another period.
  if ((previousRun?.slot.toISOString() ?? null) !== plan.previousSlot) return null;
  const period = periodFor(job, slot, previousRun?.slot ?? null);
  const context = baseContext(job, { metrics: plan.metrics, period, slot, now: new Date(plan.now), previous: previousRun?.metrics ?? null });
  // An earlier attempt's deliveries are skipped by key, as the claimant skips them.
  const run: RunRecord =
    state.attempts > 1
      ? ((await store.getRun(job.name, slot)) ?? emptyRun(state.runId, job.name, slot))
      : { ...emptyRun(state.runId, job.name, slot), attempts: 1 };
  if (run.id !== state.runId) return null;
  const progress = new ProgressReporter(deps.events, job.name, slot, state.fanout.items * job.targets.length);
  const work: ChunkWork = { deps, job, context, store, run, previousRun, outcome, signal, deadline, progress, skip: await unsubscribedUsers(store, job.name), force: plan.force === true };
  try {
    return await workChunks(work);
  } catch (err) {
    // The chunk is marked failed in the ledger: the claimant fails the run with its error.
    if (signal.aborted) return null;
    deps.logger.warn({ job: job.name, slot: slot.toISOString(), err: toDigestError(err, signal).message }, 'a chunk of a shared fan-out failed');
    return null;
  }
}

/**
 * The slot runs elsewhere: help with its fan-out if it is shared, within this job's timeout. The
 * outcome stays `in-progress` (the claimant finishes the run) with what this process delivered.
 */
export async function helpWith(deps: RunnerDeps, job: JobConfig, slot: Date, store: StateStore, outcome: RunOutcome, outer: AbortSignal | undefined): Promise<void> {
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(new DigestError('E_TIMEOUT', `helping with ${job.name} exceeded the job's timeout`)), job.timeoutMs);
  timeout.unref?.();
  const onOuterAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const helperOutcome = { ...outcome, delivered: [] as RunOutcome['delivered'] };
  try {
    const helped = await helpFanout(deps, job, slot, store, controller.signal, Date.now() + job.timeoutMs, helperOutcome);
    if (helped && helped.chunks > 0) {
      outcome.delivered = helperOutcome.delivered;
      outcome.reason = `${outcome.reason}; this process delivered ${helped.sent} of its messages (${helped.chunks} chunk(s) of the shared fan-out)`;
      deps.events.emit('run:helped', { job: job.name, slot, owner: outcome.existing?.owner ?? '', chunks: helped.chunks, messages: helped.sent });
    }
  } finally {
    clearTimeout(timeout);
    outer?.removeEventListener('abort', onOuterAbort);
  }
}

function emptyRun(id: string, job: string, slot: Date): RunRecord {
  return { id, job, slot, status: 'running', owner: '', leaseUntil: slot, attempts: 1, startedAt: slot, finishedAt: null, reason: null, error: null, metrics: null, deliveries: [] };
}
