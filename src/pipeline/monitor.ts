/**
 * The run step of jobs with `when:`: the notify gate for ordinary jobs, and the whole delivery of
 * monitors (one alert message, edited in place, reminded and resolved in its thread). The decision
 * is the pure state machine in src/monitor/; this file only carries it out through the client and
 * records the result in the ledger.
 */
import { DigestError } from '../errors.js';
import type { JobConfig } from '../config/index.js';
import type { PachcaClient } from '../pachca/index.js';
import type { Message } from '../pachca/index.js';
import type { StateStore, RunRecord } from '../state/index.js';
import type { DigestEmitter } from '../events.js';
import {
  acknowledgeMonitor,
  decideNotify,
  evaluateCondition,
  evaluateKey,
  loadMonitorState,
  loadObservation,
  saveMonitorState,
  saveObservation,
  stepMonitor,
  withMessage,
  type MonitorAction,
  type MonitorState,
  type Observation,
} from '../monitor/index.js';
import { planMessages, type PlannedMessage, type RenderContext } from './plan.js';

export interface NotifyGate {
  post: boolean;
  reason?: string;
  /** Store this run's observation; called once the run posted or skipped. */
  commit(): Promise<void>;
}

/** Whether an ordinary (non-monitor) job posts this run, by `when:` / `notify:` / `change_key:`. */
export async function notifyGate(job: JobConfig, context: RenderContext, store: StateStore | null): Promise<NotifyGate> {
  if (!job.when && !job.changeKey) return { post: true, commit: async () => {} };
  const now: Observation = {
    active: job.when ? await evaluateCondition(job.when, context, job.name) : null,
    key: job.changeKey ? await evaluateKey(job.changeKey, context, job.name) : null,
  };
  const last = store && job.notify === 'on_change' ? await loadObservation(store, job.name) : null;
  const d = decideNotify(job.notify ?? 'always', now, last);
  return {
    post: d.post,
    ...(d.reason ? { reason: d.reason } : {}),
    commit: async () => {
      if (store && job.notify === 'on_change') await saveObservation(store, job.name, now);
    },
  };
}

export interface MonitorRunDeps {
  job: JobConfig;
  context: RenderContext;
  store: StateStore | null;
  run: RunRecord | null;
  client: () => PachcaClient;
  events: DigestEmitter;
  now: Date;
  signal: AbortSignal;
  dryRun: boolean;
}

export interface MonitorRunResult {
  /** Nothing to do this run (condition false, or pending under `for:`): the run is `skipped` with this reason. */
  skipped?: string;
  messages: PlannedMessage[];
  delivered: Array<{ key: string; messageId: number; url: string | null; reused: boolean }>;
  actions: MonitorAction['kind'][];
}

const ALERT_KEY = 'alert';

export async function runMonitor(d: MonitorRunDeps): Promise<MonitorRunResult> {
  const { job, store } = d;
  const m = job.monitor!;
  const active = await evaluateCondition(job.when!, d.context, job.name);
  const prev = store ? await withAcknowledgement(store, await loadMonitorState(store, job.name), d) : null;
  const nowMs = d.now.getTime();
  // A preview (render, --dry-run) has no history: show the alert as it would look once `for:` held.
  const step = stepMonitor(prev, active, nowMs, { forMs: d.dryRun ? 0 : m.forMs, repeatMs: m.repeatMs });
  let state = step.state;
  const result: MonitorRunResult = { messages: [], delivered: [], actions: step.actions.map((a) => a.kind) };
  if (step.actions.length === 0) {
    if (store && !d.dryRun) await saveMonitorState(store, job.name, state);
    result.skipped = !active
      ? 'monitor: the condition is false'
      : `monitor: the condition holds for ${minutes(nowMs - state.activeSince!)} of ${minutes(m.forMs)} (for:)`;
    return result;
  }

  const alert = alertMessage(job, d.context, state, d.now);
  result.messages = [alert];
  if (d.dryRun) return result;

  const client = d.client();
  const done = new Map((d.run?.deliveries ?? []).map((x) => [x.key, x] as const));
  for (const action of step.actions) {
    const messageId = state.message?.id ?? null;
    switch (action.kind) {
      case 'post': {
        // A retried run already posted the alert: its delivery record says so.
        const already = done.get(ALERT_KEY);
        if (already) {
          state = withMessage(state, { id: already.messageId, chatId: already.chatId });
          result.delivered.push({ key: ALERT_KEY, messageId: already.messageId, url: already.url, reused: true });
          break;
        }
        const sent = await post(client, alert, d.signal);
        if (store && d.run) {
          await store.recordDelivery(d.run.id, { key: ALERT_KEY, messageId: sent.id, chatId: sent.chat_id ?? null, url: sent.url ?? null, deliveredAt: new Date() });
        }
        state = withMessage(state, { id: sent.id, chatId: sent.chat_id ?? null });
        // Saved at once: a crash after this point edits this alert next run instead of posting another.
        if (store) await saveMonitorState(store, job.name, state);
        result.delivered.push({ key: ALERT_KEY, messageId: sent.id, url: sent.url ?? null, reused: false });
        break;
      }
      case 'edit': {
        const updated = await edit(client, messageId!, alert.input.content, alert.input.buttons ?? [], d.signal);
        if (!updated) {
          // Someone deleted the alert: post it again rather than go silent while the condition holds.
          const sent = await post(client, alert, d.signal);
          state = withMessage(state, { id: sent.id, chatId: sent.chat_id ?? null });
          result.delivered.push({ key: ALERT_KEY, messageId: sent.id, url: sent.url ?? null, reused: false });
        } else {
          result.delivered.push({ key: ALERT_KEY, messageId: messageId!, url: updated.url ?? null, reused: true });
        }
        break;
      }
      case 'remind': {
        const text = `🔔 Всё ещё активно: ${formatDuration(nowMs - state.activeSince!)}${m.mentions.length ? ` ${m.mentions.join(' ')}` : ''}`;
        await replyInThread(client, messageId!, text, d.signal);
        break;
      }
      case 'resolve': {
        const line = resolvedLine(job, d.now, action.durationMs);
        const content = job.monitor!.resolvedTemplate
          ? job.monitor!.resolvedTemplate.render(
              { ...d.context, monitor: monitorView(prev, d.now, action.durationMs) } as unknown as Record<string, unknown>,
              { locale: job.locale, timezone: job.timezone },
            )
          : `${line}\n\n${alert.input.content}`;
        await edit(client, messageId!, content, [], d.signal);
        await replyInThread(client, messageId!, line, d.signal);
        result.delivered.push({ key: ALERT_KEY, messageId: messageId!, url: null, reused: true });
        break;
      }
    }
    d.events.emit('monitor:transition', { job: job.name, action: action.kind, messageId: state.message?.id ?? null, phase: state.phase });
  }
  if (store) await saveMonitorState(store, job.name, state);
  return result;
}

/**
 * «Принято» on the alert: the `acknowledge` button (src/interactions) records who pressed it on
 * which message in the ledger; the monitor reads it here, shows it and stops reminding.
 */
async function withAcknowledgement(store: StateStore, state: MonitorState | null, d: MonitorRunDeps): Promise<MonitorState | null> {
  if (!state || state.phase !== 'firing' || !state.message || state.acknowledged) return state;
  const ack = await store.interactions.getAcknowledgement(state.message.id);
  if (!ack) return state;
  let by = `id ${ack.userId}`;
  if (!d.dryRun) {
    try {
      by = `@${(await d.client().getUser(ack.userId, { signal: d.signal })).nickname}`;
    } catch {
      // The name is decoration; the acknowledgement itself still counts.
    }
  }
  return acknowledgeMonitor(state, by, ack.at.getTime());
}

/**
 * The alert as posted and edited: the job's template over the context plus `monitor` (since,
 * acknowledged), the config's mentions on top, and who acknowledged it at the bottom.
 */
function alertMessage(job: JobConfig, context: RenderContext, state: MonitorState, now: Date): PlannedMessage {
  const since = state.activeSince ?? now.getTime();
  const ctx = { ...context, monitor: monitorView(state, now, now.getTime() - since) } as unknown as RenderContext;
  const plan = planMessages(job, ctx);
  const first = plan.messages[0];
  if (!first) {
    throw new DigestError('E_TEMPLATE', `monitor "${job.name}": the template rendered empty text while the condition is true`, {
      location: job.position,
      hint: 'A monitor\'s template must say something when it fires; check {{#if}} blocks in it.',
    });
  }
  const parts = [first.input.content];
  if (job.monitor!.mentions.length) parts.unshift(job.monitor!.mentions.join(' '));
  if (state.acknowledged) parts.push(`Принято: ${state.acknowledged.by}, ${clock(job, new Date(state.acknowledged.at))}`);
  return { ...first, key: ALERT_KEY, input: { ...first.input, content: parts.join('\n\n') } };
}

function monitorView(state: MonitorState | null, now: Date, durationMs: number) {
  return {
    phase: state?.phase ?? 'ok',
    since: state?.activeSince ? new Date(state.activeSince) : null,
    fired_at: state?.firedAt ? new Date(state.firedAt) : null,
    resolved_at: now,
    duration_minutes: Math.round(durationMs / 60_000),
    acknowledged: state?.acknowledged ? { by: state.acknowledged.by, at: new Date(state.acknowledged.at) } : null,
  };
}

/** «✅ Решено в 10:42, длилось 37 мин» in the job's time zone. */
export function resolvedLine(job: Pick<JobConfig, 'timezone'>, at: Date, durationMs: number): string {
  return `✅ Решено в ${clock(job, at)}, длилось ${formatDuration(durationMs)}`;
}

function clock(job: Pick<JobConfig, 'timezone'>, at: Date): string {
  return new Intl.DateTimeFormat('ru-RU', { timeZone: job.timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
}

export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 60_000));
  if (total < 60) return `${total} мин`;
  const h = Math.floor(total / 60);
  const min = total % 60;
  if (h < 24) return min ? `${h} ч ${min} мин` : `${h} ч`;
  const days = Math.floor(h / 24);
  return `${days} д ${h % 24} ч`;
}

function minutes(ms: number): string {
  return formatDuration(ms);
}

async function post(client: PachcaClient, m: PlannedMessage, signal: AbortSignal): Promise<Message> {
  const sent = await client.sendMessage(m.input, { signal });
  return sent[0]!;
}

/** Null when the message is gone (404). */
async function edit(client: PachcaClient, id: number, content: string, buttons: NonNullable<PlannedMessage['input']['buttons']>, signal: AbortSignal): Promise<Message | null> {
  return client.updateIfPresent(id, { content, buttons }, { signal });
}

async function replyInThread(client: PachcaClient, messageId: number, content: string, signal: AbortSignal): Promise<void> {
  const thread = await client.createThread(messageId, { signal });
  await client.sendMessage({ entity_type: 'thread', entity_id: thread.id, content }, { signal });
}
