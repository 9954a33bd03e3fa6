/**
 * One run of one job for one slot: claim → collect → render → deliver → record.
 * Every way of running (daemon, `run-job`, `run-due`, the sandbox's "Run now") goes through here.
 */
import { DigestError } from '../errors.js';
import type { DigestEmitter } from '../events.js';
import type { JobConfig, LoadedConfig } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { PachcaClient } from '../pachca/index.js';
import type { RunRecord, StateStore } from '../state/index.js';
import { withLedgerRetry } from '../state/index.js';
import { collectSources } from '../sources/index.js';
import { isEmptyValue } from '../util/index.js';
import { baseContext, planItemCount, planMessages, planSize, streamMessages, streamPlan, type Plan, type PlannedMessage, type RenderContext } from './plan.js';
import { SHARE_MIN_ITEMS, deliverShared, helpWith, publishablePlan, shareable } from './shared.js';
import { deliver } from './deliver.js';
import { afterRun } from './after-run.js';
import { scrubError, throwIfAborted, toDigestError } from './errors.js';
import { renderAttachments } from '../attachments/index.js';
import { notifyGate, runMonitor } from './monitor.js';
import { httpAgent, periodFor } from './run-inputs.js';
import { skipIfValue } from './skip-if.js';

export type RunStatus = 'succeeded' | 'failed' | 'skipped' | 'interrupted' | 'already-done' | 'in-progress';

export interface RunOutcome {
  job: string;
  slot: Date;
  status: RunStatus;
  /** What the run would post or posted, in order. */
  messages: PlannedMessage[];
  delivered: Array<{ key: string; messageId: number; url: string | null; reused: boolean }>;
  reason?: string;
  error?: DigestError;
  durationMs: number;
  attempts: number;
  notes: string[];
  /** The ledger's record when another runner owns or finished the slot. */
  existing?: RunRecord;
}

export interface RunnerDeps {
  config: LoadedConfig;
  events: DigestEmitter;
  logger: Logger;
  /** null: no ledger (dry runs, render). */
  store: StateStore | null;
  /** Created on first use so dry runs never load the HTTP client. */
  client: () => PachcaClient;
  /** Identifies this process in claims: host:pid:random. */
  owner: string;
  /** Injected clock for tests. */
  now?: () => Date;
}

export interface RunRequest {
  job: JobConfig;
  slot: Date;
  /** Print, don't post, don't claim. */
  dryRun?: boolean;
  /** Use these metrics instead of collecting (render --metrics FILE). */
  metrics?: unknown;
  force?: boolean;
  retryFailed?: boolean;
  signal?: AbortSignal;
  /** Render the attachments in a dry run too (`render` writes or lists them; `run-job --dry-run` skips the cost). */
  renderFiles?: boolean;
}

// Re-exported: run.js is where other modules and tests have always imported them from.
export { httpAgent, periodFor } from './run-inputs.js';

/**
 * One run of a job for a slot, to its end: claim, collect, render, deliver, record, and then what
 * follows every outcome (alerts through `evaluateAlert`, the heartbeat, retention; after-run.ts).
 * One step, so no caller can post a digest and forget its alert. A dry run stops before that part.
 */
export async function runJob(deps: RunnerDeps, req: RunRequest): Promise<RunOutcome> {
  const outcome = await runPipeline(deps, req);
  if (!req.dryRun) {
    await afterRun({ config: deps.config, job: req.job, outcome, store: deps.store, client: deps.client, logger: deps.logger });
  }
  return outcome;
}

async function runPipeline(deps: RunnerDeps, req: RunRequest): Promise<RunOutcome> {
  const clock = deps.now ?? (() => new Date());
  const started = clock();
  const { job, slot } = req;
  const log = deps.logger.child({ job: job.name, slot: slot.toISOString() });
  const outcome: RunOutcome = {
    job: job.name,
    slot,
    status: 'succeeded',
    messages: [],
    delivered: [],
    durationMs: 0,
    attempts: 1,
    notes: [],
  };
  const store = req.dryRun ? null : deps.store;

  let run: RunRecord | null = null;
  if (store) {
    const refused = retentionRefusal(deps.config, job, slot, started, req.force ?? false);
    if (refused) {
      outcome.status = 'failed';
      outcome.error = refused;
      return outcome;
    }
    // A ledger outage is waited out while the slot may still start (its starting deadline), not dropped.
    const claim = await withLedgerRetry(
      () =>
        store.claim(job.name, slot, {
          owner: deps.owner,
          leaseMs: deps.config.state.leaseMs,
          now: clock(),
          force: req.force ?? false,
          retryFailed: req.retryFailed ?? false,
        }),
      { until: slot.getTime() + job.startingDeadlineMs, ...(req.signal ? { signal: req.signal } : {}), onRetry: ledgerRetryLog(log, 'claim') },
    );
    if (!claim.claimed) {
      outcome.status = claim.run.status === 'running' ? 'in-progress' : 'already-done';
      outcome.existing = claim.run;
      const r = claim.run;
      outcome.reason =
        r.status === 'running'
          ? `slot ${slot.toISOString()} is being run by ${r.owner}`
          : `slot ${slot.toISOString()} already ${r.status}${r.finishedAt ? ` at ${r.finishedAt.toISOString()}` : ''}`;
      deps.events.emit('run:claimed-elsewhere', { job: job.name, slot, status: r.status, owner: r.owner, attempts: r.attempts, finishedAt: r.finishedAt, leaseUntil: r.leaseUntil });
      if (r.status === 'running' && shareable(job)) await helpWith(deps, job, slot, store, outcome, req.signal);
      return outcome;
    }
    run = claim.run;
    outcome.attempts = run.attempts;
  }
  deps.events.emit('run:start', { job: job.name, slot, attempt: outcome.attempts });

  const controller = new AbortController();
  // The abort timer cannot fire during a synchronous render; the render checks this itself.
  const deadline = Date.now() + job.timeoutMs;
  const timeout = setTimeout(
    () => controller.abort(new DigestError('E_TIMEOUT', `job "${job.name}" exceeded its timeout of ${Math.round(job.timeoutMs / 1000)}s`, { hint: 'Raise `timeout` for the job or make its sources faster.' })),
    job.timeoutMs,
  );
  timeout.unref?.();
  const onOuterAbort = () => controller.abort(req.signal?.reason);
  req.signal?.addEventListener('abort', onOuterAbort, { once: true });
  // A long run keeps its claim alive; losing it means another runner took over, so stop posting.
  const renew =
    store && run
      ? setInterval(() => {
          const until = new Date(clock().getTime() + deps.config.state.leaseMs);
          store.renewLease(run!.id, deps.owner, until).then(
            (ok) => {
              if (!ok) controller.abort(new DigestError('E_STATE', `lost the claim on ${job.name} ${slot.toISOString()}`));
            },
            (err) => log.warn({ err: String(err) }, 'lease renewal failed'),
          );
        }, Math.max(1000, Math.floor(deps.config.state.leaseMs / 3)))
      : undefined;
  renew?.unref?.();

  let metrics: unknown = null;
  try {
    const previousRun = store ? await store.lastSuccess(job.name, slot) : null;
    const previous = previousRun?.metrics ?? null;
    const period = periodFor(job, slot, previousRun?.slot ?? null);
    const now = clock();

    if (req.metrics !== undefined) {
      metrics = req.metrics;
    } else {
      const collected = await collectSources(job.sources, {
        job: { name: job.name, timezone: job.timezone, locale: job.locale },
        period,
        now,
        previous,
        signal: controller.signal,
        logger: log,
        configDir: deps.config.dir,
        get http() {
          return httpAgent();
        },
        pachca: deps.client,
      }, { events: deps.events });
      metrics = collected.metrics;
      outcome.notes.push(...collected.notes);
      if (collected.empty.length > 0 && job.onEmpty === 'skip') {
        return await finishSkipped(`no data: ${collected.empty.join('; ')}`);
      }
    }
    throwIfAborted(controller.signal);

    const context: RenderContext = baseContext(job, { metrics, period, slot, now, previous });
    if (job.skipIf && job.onEmpty === 'skip' && isEmptyValue(skipIfValue(job, context))) {
      return await finishSkipped(`skip_if: ${job.skipIf} is empty`);
    }
    // A monitor observes once per slot; the slot (not the wall clock) times `for:`, `repeat:` and
    // «длилось», so a late or re-run slot gives the same answer.
    if (job.monitor) {
      const mon = await runMonitor({ job, context, store, run, client: deps.client, events: deps.events, now: slot, signal: controller.signal, dryRun: req.dryRun ?? false });
      outcome.messages = mon.messages;
      outcome.delivered.push(...mon.delivered);
      if (mon.skipped) return await finishSkipped(mon.skipped);
      outcome.reason = req.dryRun ? `dry run: the monitor would ${mon.actions.join(', ')}` : `monitor: ${mon.actions.join(', ')}`;
      if (store && run) await store.finish(run.id, { status: 'succeeded', now: clock(), metrics, reason: outcome.reason });
      return finalize();
    }
    const gate = await notifyGate(job, context, store);
    if (!gate.post) {
      if (!req.dryRun) await gate.commit();
      return await finishSkipped(gate.reason ?? 'notify: nothing to post');
    }
    // Without attachments, delivery renders as it posts: a fan-out to thousands holds only the
    // messages in flight. With attachments every file is rendered before the first post (bad data
    // fails the run whole), so that plan is built up front.
    if (req.dryRun || job.attachments?.length) {
      const plan = planMessages(job, context, deadline);
      outcome.messages = plan.messages;
      if (plan.messages.length === 0) {
        return await finishSkipped(plan.emptyCount > 0 ? 'the template rendered empty text' : 'for_each produced no items');
      }
      // Every message's files are rendered before the first is posted: bad data fails the run whole.
      if (job.attachments?.length && (!req.dryRun || req.renderFiles)) await renderFiles(job, plan, outcome);
      throwIfAborted(controller.signal);
      if (req.dryRun) {
        outcome.status = 'succeeded';
        outcome.reason = 'dry run: nothing posted';
        return finalize();
      }
      outcome.messages = [];
      await deliver(deps, job, plan.messages[Symbol.iterator](), plan.messages.length, run, store, outcome, controller.signal, previousRun, req.force ?? false);
    } else {
      const total = planSize(job, context);
      if (total === 0) return await finishSkipped('for_each produced no items');
      const counts = { empty: 0 };
      let sent: number;
      if (store && run && shareable(job) && planItemCount(job, context) >= SHARE_MIN_ITEMS) {
        // Replicas of this ledger that find the slot taken deliver chunks of it (shared.ts).
        const plan = publishablePlan(context, previousRun, req.force ?? false);
        sent = await deliverShared({ deps, job, context: plan.context, planText: plan.text, total, store, run, previousRun, outcome, signal: controller.signal, deadline, force: req.force ?? false });
      } else {
        const planned = streamMessages(streamPlan(job, context, counts, deadline));
        sent = await deliver(deps, job, planned, total, run, store, outcome, controller.signal, previousRun, req.force ?? false);
      }
      if (sent === 0) return await finishSkipped(counts.empty > 0 ? 'the template rendered empty text' : 'every recipient is unsubscribed');
    }
    await gate.commit();
    // Notes (an optional source left out, rows cut at max_rows) stay visible in `history`.
    const notes = outcome.notes.length > 0 ? { reason: outcome.notes.join('; ') } : {};
    if (store && run) {
      const r = run;
      await withLedgerRetry(() => store.finish(r.id, { status: 'succeeded', now: clock(), metrics, ...notes }), {
        until: Date.now() + deps.config.state.leaseMs,
        onRetry: ledgerRetryLog(log, 'finish'),
      });
    }
    outcome.status = 'succeeded';
    return finalize();
  } catch (err) {
    // Source errors may quote a command's stderr or a URL: mask secrets before the ledger, logs or the CLI see them.
    const error = scrubError(toDigestError(err, controller.signal));
    outcome.error = error;
    if (error.code === 'E_INTERRUPTED') {
      // Shutdown: hand the claim back (deliveries so far stay recorded) so the next process or a replica
      // finishes exactly the missing messages at once, instead of a failure nobody retries.
      outcome.status = 'interrupted';
      outcome.reason = `${error.message}; ${outcome.delivered.length} of ${outcome.messages.length} message(s) delivered, the rest is left to the next process`;
      if (store && run) {
        await store
          .finish(run.id, { status: 'interrupted', now: clock(), reason: outcome.reason })
          .catch((e) => log.error({ err: String(e) }, 'could not hand the interrupted run back in the ledger'));
      }
      return finalize();
    }
    outcome.status = 'failed';
    if (store && run) {
      await store
        .finish(run.id, {
          status: 'failed',
          now: clock(),
          error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
        })
        .catch((e) => log.error({ err: String(e) }, 'could not record the failure in the ledger'));
    }
    return finalize();
  } finally {
    clearTimeout(timeout);
    if (renew) clearInterval(renew);
    req.signal?.removeEventListener('abort', onOuterAbort);
  }

  async function finishSkipped(reason: string): Promise<RunOutcome> {
    outcome.status = 'skipped';
    outcome.reason = reason;
    const recorded = outcome.notes.length > 0 ? `${reason} (${outcome.notes.join('; ')})` : reason;
    if (store && run) await store.finish(run.id, { status: 'skipped', now: clock(), reason: recorded });
    return finalize();
  }

  function finalize(): RunOutcome {
    outcome.durationMs = clock().getTime() - started.getTime();
    const status =
      outcome.status === 'succeeded' || outcome.status === 'failed' || outcome.status === 'skipped' || outcome.status === 'interrupted'
        ? outcome.status
        : 'skipped';
    deps.events.emit('run:end', {
      job: job.name,
      slot,
      status,
      durationMs: outcome.durationMs,
      attempts: outcome.attempts,
      messageIds: outcome.delivered.map((d) => d.messageId),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(outcome.notes.length > 0 ? { notes: outcome.notes } : {}),
      ...(outcome.error
        ? { error: { code: outcome.error.code, message: outcome.error.message, ...(outcome.error.hint ? { hint: outcome.error.hint } : {}) } }
        : {}),
    });
    return outcome;
  }
}

/**
 * A slot older than retention may have been run and pruned already: the ledger cannot tell, so claiming it could
 * post it a second time. Refused unless forced (nothing is claimed or posted).
 */
function retentionRefusal(config: LoadedConfig, job: JobConfig, slot: Date, now: Date, force: boolean): DigestError | null {
  const days = config.state.retention.days;
  if (force || slot.getTime() >= now.getTime() - days * 86_400_000) return null;
  return new DigestError(
    'E_STATE',
    `slot ${slot.toISOString()} of "${job.name}" is older than state.retention (${days} days): the ledger may have forgotten whether it already ran`,
    { hint: 'pass --force to run it anyway (it may post a second time), or raise state.retention.days' },
  );
}

function ledgerRetryLog(log: Logger, op: string) {
  return (err: unknown, delayMs: number, attempt: number) =>
    log.warn({ op, attempt, retryInMs: delayMs, err: err instanceof Error ? err.message : String(err) }, 'run ledger unavailable: retrying');
}

/** Attachments of each fan-out item, rendered once and shared by its targets; their notes go into the message. */
async function renderFiles(job: JobConfig, plan: Plan, outcome: RunOutcome): Promise<void> {
  const opts = { locale: job.locale, timezone: job.timezone };
  for (const group of plan.groups) {
    const files = await renderAttachments(job.attachments ?? [], group.context as unknown as Record<string, unknown>, opts);
    const notes = [...new Set(files.flatMap((f) => f.notes))];
    for (const m of group.messages) {
      m.files = files;
      if (notes.length > 0) m.input.content = `${m.input.content.trimEnd()}\n\n⚠️ ${notes.join('; ')}`;
    }
    for (const n of notes) if (!outcome.notes.includes(n)) outcome.notes.push(n);
  }
}
