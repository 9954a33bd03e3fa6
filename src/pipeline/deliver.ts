/**
 * Posting a run's planned messages: a fan-out pool of workers, each message's parts recorded in
 * the ledger as they land, so a re-attempt (a retry, a takeover after a crash) sends only what is
 * missing. Whether an unrecorded message already landed is the client's question (findLanded),
 * asked per part through sendMessage's `recheck`; the pipeline never reads the API itself.
 */
import type { JobConfig } from '../config/index.js';
import type { DigestError } from '../errors.js';
import type { PachcaClient } from '../pachca/index.js';
import type { Message } from '../pachca/index.js';
import type { DeliveryRecord, RunRecord, StateStore } from '../state/index.js';
import { withLedgerRetry, withMessageLock } from '../state/index.js';
import { DeliveryBatcher, ProgressReporter, unsubscribedUsers } from './fanout.js';
import { toDigestError } from './errors.js';
import type { PlannedMessage } from './plan.js';
import type { RunOutcome, RunnerDeps } from './run.js';
import { sendOne, type Recheck } from './send.js';

/** Fan-out concurrency: the client paces per chat, so more in flight only queues in the limiter. */
const DELIVERY_CONCURRENCY = 16;
/** Runs with at most this many messages keep them in the outcome (printed by `run-job --sandbox`). */
const KEEP_MESSAGES = 200;
/** Our clock and Pachca's differ: a message stamped slightly before the slot may still be this run's. */
const RECHECK_CLOCK_SKEW_MS = 5_000;
const LEDGER_RECORD_PATIENCE_MS = 60_000;

/** The ledger key of part `index` (0-based) of the message keyed `key`. */
export function partKey(key: string, index: number): string {
  return index === 0 ? key : `${key}~${index + 1}`;
}

/** The records of `key`'s parts, in order, as far as they are contiguous from the first. */
function partsOf(byKey: ReadonlyMap<string, DeliveryRecord>, key: string): DeliveryRecord[] {
  const out: DeliveryRecord[] = [];
  for (let r = byKey.get(key); r; r = byKey.get(partKey(key, out.length))) out.push(r);
  return out;
}

/**
 * The chats of DM and thread targets the ledger already knows (every delivery keeps its chat), so
 * an ambiguous POST to them can be checked without looking the chat up.
 */
function rememberTargetChats(client: PachcaClient, records: readonly DeliveryRecord[]): void {
  for (const r of records) {
    const m = /^(user|thread):(\d+)(?:#[^~]*)?$/.exec(r.key);
    if (m && r.chatId != null) client.rememberChat({ entity_type: m[1] as 'user' | 'thread', entity_id: Number(m[2]) }, r.chatId);
  }
}

/**
 * A message that went out must reach the ledger, or a later run would post it again: an outage is waited out for
 * up to a lease (after that the claim is lost anyway).
 */
function recordDeliveries(store: StateStore, runId: string, records: readonly DeliveryRecord[]): Promise<void> {
  return withLedgerRetry(() => store.recordDeliveries(runId, records), { until: Date.now() + LEDGER_RECORD_PATIENCE_MS });
}

/** What a run delivering in chunks (a fan-out shared by replicas, shared.ts) keeps across its calls of `deliver`. */
export interface DeliverShared {
  /** One report for the whole run, started and stopped by the caller. */
  progress: ProgressReporter;
  /** The run's unsubscribed users, read once. */
  skip: ReadonlySet<number>;
  /** This chunk was taken before (its taker died or stalled): look for each missing message before posting it. */
  recheck: boolean;
}

/** Posts the planned messages as they are rendered; returns how many were planned (sent or found sent). */
export async function deliver(
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
  shared?: DeliverShared,
): Promise<number> {
  const client = deps.client();
  const done = new Map((run?.deliveries ?? []).map((d) => [d.key, d] as const));
  const previousByKey = new Map((previousRun?.deliveries ?? []).map((d) => [d.key, d] as const));
  rememberTargetChats(client, [...(previousRun?.deliveries ?? []), ...(run?.deliveries ?? [])]);
  const errors: DigestError[] = [];
  const skip = shared?.skip ?? (await unsubscribedUsers(store, job.name));
  const batcher = store && run ? new DeliveryBatcher((batch) => recordDeliveries(store, run.id, batch), (err) => errors.push(toDigestError(err, signal))) : null;
  const progress = shared?.progress ?? new ProgressReporter(deps.events, job.name, outcome.slot, total);
  const keep = total <= KEEP_MESSAGES;
  let count = 0;
  // A re-attempt (takeover after a crash, a retry after an ambiguous failure) may face parts the
  // earlier attempt posted but never recorded: killed after Pachca stored them, or the answer was
  // lost. Pachca has no idempotency key, so each missing part is looked for before it is posted.
  // A forced run re-posts on purpose and is not checked — except a chunk of it whose taker died
  // mid-way (a shared fan-out), and a takeover of it: those look among the re-run's own posts only
  // (since it began), or the first run's posts of the same texts would pass for the re-run's.
  const forcedSince = run?.forcedAt?.getTime() ?? (force ? run?.startedAt.getTime() : undefined);
  const recheck: Recheck | null =
    run && (shared?.recheck || (run.attempts > 1 && !force))
      ? {
          since:
            forcedSince !== undefined
              ? forcedSince - RECHECK_CLOCK_SKEW_MS
              : Math.max(outcome.slot.getTime() - RECHECK_CLOCK_SKEW_MS, previousRun?.finishedAt?.getTime() ?? 0),
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
      const recorded = partsOf(done, m.key);
      for (const [i, r] of recorded.entries()) outcome.delivered.push({ key: partKey(m.key, i), messageId: r.messageId, url: r.url, reused: true });
      try {
        const previous = job.delivery === 'update' ? partsOf(previousByKey, m.key) : [];
        const send = () =>
          sendOne(client, job, m!, {
            recorded,
            previous,
            recheck,
            signal,
            onPart: async (msg: Message, i: number, found: boolean, files) => {
              const key = partKey(m!.key, i);
              const r: DeliveryRecord = { key, messageId: msg.id, chatId: msg.chat_id ?? null, url: msg.url ?? null, deliveredAt: new Date() };
              if (files) r.files = files;
              await batcher?.add(r);
              outcome.delivered.push({ key, messageId: msg.id, url: msg.url ?? null, reused: found });
            },
          });
        if (previous.length > 0 && store) {
          // A button action (refresh, acknowledge) editing this message takes the same ledger lock:
          // the two edits land one after the other, and the action, reading the ledger after us,
          // sees this run as the message's owner (so its refresh shows this slot, not the last one).
          // The lock lasts as long as the run's claim: a run killed mid-edit frees both together.
          await withMessageLock(store.interactions, previous[0]!.messageId, deps.owner, async () => {
            await send();
            await batcher?.flush();
          }, { leaseMs: deps.config.state.leaseMs, signal });
        } else {
          await send();
        }
        progress.sent();
      } catch (err) {
        errors.push(toDigestError(err, signal, m));
      }
    }
  };
  if (!shared) progress.start();
  try {
    await Promise.all(Array.from({ length: Math.min(DELIVERY_CONCURRENCY, total) }, worker));
  } finally {
    // What was delivered is written even when the run fails, so a retry skips it.
    await batcher?.flush().catch(() => undefined);
    if (!shared) progress.stop();
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
