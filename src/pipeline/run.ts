/**
 * One run of one job for one slot: claim → collect → render → deliver → record.
 * Every way of running (daemon, `run-job`, `run-due`, the sandbox's "Run now") goes through here.
 */
import { createRequire } from 'node:module';
import type { Dispatcher } from 'undici';
import { DigestError, isDigestError } from '../errors.js';
import { scrubSecrets } from '../observability/secrets.js';
import type { DigestEmitter } from '../events.js';
import type { JobConfig, LoadedConfig } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { PachcaClient } from '../pachca/client.js';
import type { Message } from '../pachca/types.js';
import type { DeliveryRecord, RunRecord, StateStore } from '../state/types.js';
import { withLedgerRetry } from '../state/index.js';
import type { Period } from '../sources/define.js';
import { collectSources } from '../sources/collect.js';
import { computePeriod, latestSlot, parseCron, toZonedIso } from '../scheduler/index.js';
import { isEmptyValue, splitPath } from '../util/path.js';
import { baseContext, planMessages, planSize, streamMessages, streamPlan, type Plan, type PlannedMessage, type RenderContext } from './plan.js';
import { DeliveryBatcher, ProgressReporter, unsubscribedUsers } from './fanout.js';
import { renderAttachments } from '../attachments/index.js';
import type { MessageFile } from '../pachca/types.js';
import { notifyGate, runMonitor } from './monitor.js';

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

export async function runJob(deps: RunnerDeps, req: RunRequest): Promise<RunOutcome> {
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
      return outcome;
    }
    run = claim.run;
    outcome.attempts = run.attempts;
  }
  deps.events.emit('run:start', { job: job.name, slot, attempt: outcome.attempts });

  const controller = new AbortController();
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
      const plan = planMessages(job, context);
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
      const planned = streamMessages(streamPlan(job, context, counts));
      const sent = await deliver(deps, job, planned, total, run, store, outcome, controller.signal, previousRun, req.force ?? false);
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
 * The value `skip_if` looks at. A path through a null parent (an optional source that failed)
 * is "no data"; a key that does not exist is a mistake in the config, and must not silently
 * skip every digest from now on.
 */
function skipIfValue(job: JobConfig, context: RenderContext): unknown {
  const path = job.skipIf!;
  let cur: unknown = context;
  const parts = splitPath(path);
  for (let i = 0; i < parts.length; i++) {
    if (cur === null) return null;
    const key = parts[i]!;
    if (typeof cur !== 'object' || !(key in (cur as object))) {
      const seen = parts.slice(0, i).join('.') || 'the context';
      const keys = cur !== null && typeof cur === 'object' ? Object.keys(cur as object) : [];
      throw new DigestError('E_SOURCE', `skip_if: "${path}" is not in the data (${seen} has no "${key}")`, {
        location: { ...job.position, path: `${job.position.path}.skip_if` },
        hint: keys.length
          ? `${seen} has: ${keys.slice(0, 12).join(', ')}. Fix the path; \`pachca-digest render ${job.name} --json\` shows the data.`
          : `Fix the path; \`pachca-digest render ${job.name} --json\` shows the data.`,
      });
    }
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
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

/**
 * A message that went out must reach the ledger, or a later run would post it again: an outage is waited out for
 * up to a lease (after that the claim is lost anyway).
 */
function recordDeliveries(store: StateStore, runId: string, records: readonly DeliveryRecord[]): Promise<void> {
  return withLedgerRetry(() => store.recordDeliveries(runId, records), { until: Date.now() + LEDGER_RECORD_PATIENCE_MS });
}
const LEDGER_RECORD_PATIENCE_MS = 60_000;

function ledgerRetryLog(log: Logger, op: string) {
  return (err: unknown, delayMs: number, attempt: number) =>
    log.warn({ op, attempt, retryInMs: delayMs, err: err instanceof Error ? err.message : String(err) }, 'run ledger unavailable: retrying');
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

/** Fan-out concurrency: the client paces per chat, so more in flight only queues in the limiter. */
const DELIVERY_CONCURRENCY = 16;
/** Runs with at most this many messages keep them in the outcome (printed by `run-job --sandbox`). */
const KEEP_MESSAGES = 200;

/** Posts the planned messages as they are rendered; returns how many were planned (sent or found sent). */
async function deliver(
  deps: RunnerDeps,
  job: JobConfig,
  planned: Iterator<PlannedMessage>,
  total: number,
  run: RunRecord | null,
  store: StateStore | null,
  outcome: RunOutcome,
  signal: AbortSignal,
  previousRun: RunRecord | null,
  force: boolean,
): Promise<number> {
  const client = deps.client();
  const done = new Map((run?.deliveries ?? []).map((d) => [d.key, d] as const));
  const previousByKey = new Map((previousRun?.deliveries ?? []).map((d) => [d.key, d] as const));
  const errors: DigestError[] = [];
  const skip = await unsubscribedUsers(store, job.name);
  const batcher = store && run ? new DeliveryBatcher((batch) => recordDeliveries(store, run.id, batch), (err) => errors.push(toDigestError(err, signal))) : null;
  const record = (r: DeliveryRecord): Promise<void> | undefined => batcher?.add(r);
  const progress = new ProgressReporter(deps.events, job.name, outcome.slot, total);
  const keep = total <= KEEP_MESSAGES;
  let count = 0;
  // A re-attempt (takeover after a crash, a retry after an ambiguous failure) may face a message the
  // earlier attempt posted but never recorded: killed after Pachca stored it, or the answer was lost.
  // Pachca has no idempotency key, so look for it in the chat before posting again. A forced run
  // re-posts on purpose and is not checked.
  const recheck: Recheck | null =
    run && run.attempts > 1 && !force
      ? {
          since: Math.max(outcome.slot.getTime() - RECHECK_CLOCK_SKEW_MS, previousRun?.finishedAt?.getTime() ?? 0),
          taken: new Set(run.deliveries.map((d) => d.messageId)),
        }
      : null;

  // Workers pull from the one plan iterator; rendering is synchronous, so each takes a whole message.
  const next = (): PlannedMessage | undefined => {
    for (;;) {
      const r = planned.next();
      if (r.done) return undefined;
      if (r.value.target.kind === 'user' && skip.has(r.value.target.id)) {
        progress.dropped();
        continue;
      }
      return r.value;
    }
  };
  const worker = async () => {
    while (errors.length === 0) {
      let m: PlannedMessage | undefined;
      try {
        m = next();
      } catch (err) {
        errors.push(toDigestError(err, signal));
        return;
      }
      if (!m) return;
      count++;
      if (keep) outcome.messages.push(m);
      const already = done.get(m.key);
      if (already) {
        outcome.delivered.push({ key: m.key, messageId: already.messageId, url: already.url, reused: true });
        progress.sent();
        continue;
      }
      try {
        const edits = job.delivery === 'update' && previousByKey.has(m.key);
        const found = recheck && !edits ? await findUnrecorded(client, m, recheck, signal) : undefined;
        if (found) {
          deps.events.emit('pachca:deduplicated', { chatId: found.chat_id, messageId: found.id });
          await record({ key: m.key, messageId: found.id, chatId: found.chat_id ?? null, url: found.url ?? null, deliveredAt: new Date() });
          outcome.delivered.push({ key: m.key, messageId: found.id, url: found.url ?? null, reused: true });
          progress.sent();
          continue;
        }
        const sent = await sendOne(client, job, m, previousByKey.get(m.key) ?? null, signal);
        for (let i = 0; i < sent.messages.length; i++) {
          const msg = sent.messages[i]!;
          const key = i === 0 ? m.key : `${m.key}~${i + 1}`;
          const r: DeliveryRecord = { key, messageId: msg.id, chatId: msg.chat_id ?? null, url: msg.url ?? null, deliveredAt: new Date() };
          if (sent.files && sent.files.on === i) r.files = sent.files.list;
          await record(r);
          outcome.delivered.push({ key, messageId: msg.id, url: msg.url ?? null, reused: false });
        }
        progress.sent();
      } catch (err) {
        errors.push(toDigestError(err, signal, m));
      }
    }
  };
  progress.start();
  try {
    await Promise.all(Array.from({ length: Math.min(DELIVERY_CONCURRENCY, total) }, worker));
  } finally {
    // What was delivered is written even when the run fails, so a retry skips it.
    await batcher?.flush().catch(() => undefined);
    progress.stop();
  }
  if (errors.length > 0) {
    const first = errors[0]!;
    if (outcome.delivered.length > 0) {
      outcome.notes.push(`${outcome.delivered.length} of ${total} messages were delivered before the failure; a retry delivers only the rest`);
    }
    throw first;
  }
  return count;
}

/** Our clock and Pachca's differ: a message stamped slightly before the slot may still be this run's. */
const RECHECK_CLOCK_SKEW_MS = 5_000;
/** Recent messages read per chat when checking for an unrecorded delivery (the API's page maximum). */
const RECHECK_LOOKBACK = 50;

interface Recheck {
  /** Messages created before this (epoch ms) belong to earlier slots. */
  since: number;
  /** Message ids already accounted for in this run, so two identical messages never match one post. */
  taken: Set<number>;
}

/**
 * The message an earlier attempt of this run posted for `m` without recording it: same chat, same
 * content, created after the slot (and after the previous run finished), not claimed by another key.
 * Only chat targets are checked: the chat of a thread or DM is not known without more API calls.
 */
async function findUnrecorded(client: PachcaClient, m: PlannedMessage, recheck: Recheck, signal: AbortSignal): Promise<Message | undefined> {
  if (m.input.entity_type !== 'discussion') return undefined;
  let page: { data?: Message[] };
  try {
    page = await client.request<{ data?: Message[] }>('GET', '/messages', {
      query: { chat_id: m.input.entity_id, limit: RECHECK_LOOKBACK },
      signal,
    });
  } catch (err) {
    // A chat we cannot read (gone, not a member) cannot hold an unrecorded post either; the POST
    // then reports the real problem. Anything else (5xx, network) fails the run, to be retried.
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500 && status !== 429) return undefined;
    throw err;
  }
  const bot = client.botUserId;
  const content = m.input.content.trim();
  const found = (page.data ?? [])
    .filter((msg) => {
      if (!msg || typeof msg.id !== 'number' || recheck.taken.has(msg.id)) return false;
      if (bot !== undefined && msg.user_id !== bot) return false;
      if (msg.entity_type !== undefined && msg.entity_type !== 'discussion') return false;
      if (typeof msg.content !== 'string' || msg.content.trim() !== content) return false;
      const created = Date.parse(msg.created_at);
      return !Number.isNaN(created) && created >= recheck.since;
    })
    // Oldest first: if several attempts got through, the first one is the run's message.
    .sort((a, b) => a.id - b.id)[0];
  // Taken before the next await, so a concurrent worker cannot match the same message.
  if (found) recheck.taken.add(found.id);
  return found;
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

interface Sent {
  messages: Message[];
  /** What was attached, and to which of the messages (the part that carries the buttons). */
  files?: { list: MessageFile[]; on: number };
}

/** Uploads a message's files; all of them, or the message is not posted. */
async function upload(client: PachcaClient, m: PlannedMessage, signal: AbortSignal): Promise<MessageFile[] | undefined> {
  if (!m.files) return undefined;
  // Loaded here: dry runs and jobs without files never load the HTTP stack.
  const { uploadFiles } = await import('../pachca/uploads.js');
  return uploadFiles(
    client,
    m.files.map((f) => ({ name: f.name, bytes: f.bytes, contentType: f.contentType, fileType: f.fileType, ...(f.width ? { width: f.width, height: f.height } : {}) })),
    { signal },
  );
}

async function sendOne(client: PachcaClient, job: JobConfig, m: PlannedMessage, previous: DeliveryRecord | null, signal: AbortSignal): Promise<Sent> {
  const files = await upload(client, m, signal);
  if (job.delivery === 'update' && previous) {
    try {
      const updated = await client.updateMessage(
        previous.messageId,
        // `files` replaces the previous run's files; a job without attachments leaves a message's files alone.
        { content: m.input.content, buttons: m.input.buttons ?? [], ...(files ? { files } : {}) },
        // Pachca paces edits per chat: the ledger knows the chat, so the client need not guess.
        { signal, ...(previous.chatId != null ? { chatId: previous.chatId } : {}) },
      );
      return { messages: [updated], ...(files ? { files: { list: files, on: 0 } } : {}) };
    } catch (err) {
      // The message the previous run posted was deleted: post a new one instead.
      if (!(isDigestError(err) && (err as { status?: number }).status === 404)) throw err;
    }
  }
  const sent = await client.sendMessage(files ? { ...m.input, files } : m.input, { signal, splitToThread: job.splitToThread });
  return { messages: sent, ...(files ? { files: { list: files, on: job.splitToThread ? 0 : sent.length - 1 } } : {}) };
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw toDigestError(signal.reason, signal);
}

function toDigestError(err: unknown, signal: AbortSignal, m?: PlannedMessage): DigestError {
  if (signal.aborted && isDigestError(signal.reason)) return signal.reason;
  if (isDigestError(err)) {
    if (m && err.code === 'E_DELIVERY' && !err.message.includes(m.target.label)) {
      return new DigestError(err.code, `${m.target.label}: ${err.message}`, { location: err.location, hint: err.hint, cause: err, details: err.details });
    }
    return err;
  }
  if (signal.aborted) return new DigestError('E_ABORTED', 'the run was cancelled', { cause: err });
  // Anything else is a bug: keep the original as the cause so its stack trace gets printed.
  return new DigestError('E_INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
}

function scrubError(e: DigestError): DigestError {
  const message = scrubSecrets(e.message);
  const hint = e.hint === undefined ? undefined : scrubSecrets(e.hint);
  if (message === e.message && hint === e.hint && e.details.length === 0) return e;
  return new DigestError(e.code, message, {
    ...(e.location ? { location: e.location } : {}),
    ...(hint !== undefined ? { hint } : {}),
    cause: e.cause ?? e,
    details: e.details.map(scrubError),
  });
}
