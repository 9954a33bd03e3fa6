/**
 * What a click on an action button does. Each action edits or posts through the same client
 * (pacing, retries) and ledger as a scheduled run; a click on a message is ordered against a
 * scheduled run editing that message by the ledger's message lock (withMessageLock).
 */
import { DateTime } from 'luxon';
import { isActionButton, type JobConfig } from '../config/index.js';
import type { MessageButton } from '../pachca/index.js';
import { escapeMarkdown, finalizeMarkdown } from '../render/index.js';
import type { RunnerDeps } from '../pipeline/index.js';
import { replanSlot } from '../pipeline/index.js';
import type { StateStore } from '../state/index.js';
import { withMessageLock } from '../state/index.js';
import { decodeButtonData, type ButtonPayload } from './payload.js';
import type { EventHandler, IncomingEvent } from './router.js';

export type ActionDeps = Omit<RunnerDeps, 'store' | 'config'> & { store: StateStore; config: () => RunnerDeps['config'] };

interface Click {
  messageId: number;
  userId: number;
  chatId: number | null;
  payload: ButtonPayload;
  job: JobConfig;
}

/** The `button_click` handler: decode, find the job, run the action. Foreign or broken data is skipped with a warning. */
export function buttonClickHandler(deps: ActionDeps): EventHandler {
  return async (event: IncomingEvent, ctx) => {
    const p = event.payload;
    const decoded = decodeButtonData(p.data);
    if (!decoded.ok) {
      ctx.logger.warn({ reason: decoded.reason, kind: decoded.kind }, 'button click ignored: its data is not a valid pachca-digest payload');
      return;
    }
    const job = deps.config().jobs.find((j) => j.name === decoded.payload.job);
    const messageId = Number(p.message_id);
    const userId = Number(p.user_id);
    if (!job || !Number.isSafeInteger(messageId) || !Number.isSafeInteger(userId)) {
      ctx.logger.warn({ job: decoded.payload.job }, 'button click ignored: unknown job or malformed event');
      return;
    }
    const click: Click = { messageId, userId, chatId: typeof p.chat_id === 'number' ? p.chat_id : null, payload: decoded.payload, job };
    deps.events.emit('interaction:action', { job: job.name, action: decoded.payload.action, messageId, userId });
    switch (decoded.payload.action) {
      case 'refresh':
        return refresh(deps, click, ctx.signal);
      case 'acknowledge':
        return acknowledge(deps, click, ctx.signal);
      case 'details':
        return details(deps, click, ctx.signal);
      case 'unsubscribe':
        return unsubscribe(deps, click, ctx.signal);
    }
  };
}

const LOCK_LEASE_MS = 120_000;

function lock<T>(deps: ActionDeps, messageId: number, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return withMessageLock(deps.store.interactions, messageId, deps.owner, fn, { leaseMs: LOCK_LEASE_MS, signal, now: deps.now });
}

/** The slot whose content the message shows now: the newest run that delivered it (an `update` job moves it on). */
async function currentSlot(deps: ActionDeps, c: Click): Promise<Date> {
  const runs = await deps.store.history({ job: c.job.name, limit: 20 });
  const owner = runs.find((r) => r.deliveries.some((d) => d.messageId === c.messageId));
  return owner?.slot ?? c.payload.slot;
}

function runnerDeps(deps: ActionDeps): RunnerDeps {
  return { ...deps, config: deps.config() };
}

async function refresh(deps: ActionDeps, c: Click, signal: AbortSignal): Promise<void> {
  await lock(deps, c.messageId, signal, async () => {
    const slot = await currentSlot(deps, c);
    const { plan } = await replanSlot(runnerDeps(deps), c.job, slot, signal);
    const m = plan.messages.find((x) => x.key === c.payload.key) ?? plan.messages[0];
    if (!m) {
      deps.logger.warn({ job: c.job.name }, 'refresh: the job renders no message for this slot now; left as it is');
      return;
    }
    const ack = await deps.store.interactions.getAcknowledgement(c.messageId);
    let content = m.input.content;
    let buttons = m.input.buttons ?? [];
    if (ack) {
      content = `${content}\n\n${await ackLine(deps, c.job, ack.userId, ack.at, signal)}`;
      buttons = withoutAction(buttons, 'acknowledge');
    }
    await deps.client().updateMessage(c.messageId, { content, buttons }, { signal });
  });
}

async function acknowledge(deps: ActionDeps, c: Click, signal: AbortSignal): Promise<void> {
  await lock(deps, c.messageId, signal, async () => {
    const now = (deps.now ?? (() => new Date()))();
    const first = await deps.store.interactions.acknowledge({ messageId: c.messageId, job: c.job.name, userId: c.userId, at: now });
    if (!first) return; // someone acknowledged it already: the message says so
    const client = deps.client();
    const msg = await client.getMessage(c.messageId, { signal });
    const content = `${msg.content}\n\n${await ackLine(deps, c.job, c.userId, now, signal)}`;
    await client.updateMessage(c.messageId, { content, buttons: withoutAction(msg.buttons ?? [], 'acknowledge') }, { signal });
  });
}

async function details(deps: ActionDeps, c: Click, signal: AbortSignal): Promise<void> {
  const target = c.job.targets[c.payload.target];
  const button = target?.buttons.flat().find((b) => isActionButton(b) && b.action === 'details');
  const template = button && isActionButton(button) ? button.template : undefined;
  if (!template) {
    deps.logger.warn({ job: c.job.name }, 'details: the job has no details button (config changed since the message was posted)');
    return;
  }
  const slot = await currentSlot(deps, c);
  const { context } = await replanSlot(runnerDeps(deps), c.job, slot, signal);
  const index = /#(\d+)$/.exec(c.payload.key)?.[1];
  const list = c.job.forEach && index !== undefined ? itemsOf(context, c.job.forEach) : null;
  const ctx = list ? { ...context, item: list[Number(index)] } : context;
  const content = template.render(ctx as unknown as Record<string, unknown>, { locale: c.job.locale, timezone: c.job.timezone });
  if (!content.trim()) return;
  await deps.client().sendMessage({ entity_type: 'user', entity_id: c.userId, content }, { signal });
}

async function unsubscribe(deps: ActionDeps, c: Click, signal: AbortSignal): Promise<void> {
  const now = (deps.now ?? (() => new Date()))();
  if (await deps.store.interactions.isUnsubscribed(c.job.name, c.userId)) return;
  await deps.store.interactions.setUnsubscribed(c.job.name, c.userId, true, now);
  const name = finalizeMarkdown(escapeMarkdown(c.job.description ?? c.job.name));
  await deps.client().sendMessage({ entity_type: 'user', entity_id: c.userId, content: `Вы отписались от рассылки «${name}».` }, { signal });
}

/** «Принято: @nick, 10:42» — the nickname is data, so it is shown inert (nobody is notified). */
async function ackLine(deps: ActionDeps, job: JobConfig, userId: number, at: Date, signal: AbortSignal): Promise<string> {
  let who = `id ${userId}`;
  try {
    who = `@${(await deps.client().getUser(userId, { signal })).nickname}`;
  } catch {
    // a user we cannot read still acknowledged: show the id
  }
  const time = DateTime.fromJSDate(at, { zone: job.timezone }).toFormat('HH:mm');
  return `Принято: ${finalizeMarkdown(escapeMarkdown(who))}, ${time}`;
}

function withoutAction(rows: MessageButton[][], action: ButtonPayload['action']): MessageButton[][] {
  return rows
    .map((row) => row.filter((b) => {
      const d = b.data === undefined ? null : decodeButtonData(b.data);
      return !(d && d.ok && d.payload.action === action);
    }))
    .filter((row) => row.length > 0);
}

function itemsOf(context: object, path: string): unknown[] | null {
  let cur: unknown = context;
  for (const k of path.split('.')) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return Array.isArray(cur) ? cur : null;
}
