/**
 * Turning metrics into the exact messages a run posts: fan-out, targets, buttons, content.
 * Pure (no I/O), so `render`, `run-job --dry-run` and delivery all share it.
 */
import { DigestError } from '../errors.js';
import { isActionButton, type JobConfig, type TargetSpec } from '../config/index.js';
import { CONFIG_DEFAULTS } from '../config/index.js';
import { encodeButtonData } from '../interactions/payload.js';
import type { CompiledTemplate, RenderOptions } from '../render/index.js';
import type { Period } from '../sources/index.js';
import type { CreateMessageInput, EntityType, MessageButton } from '../pachca/index.js';
import { getPath } from '../util/index.js';
import { attachmentInfos, type AttachmentInfo, type RenderedFile } from '../attachments/index.js';

export interface RenderContext {
  metrics: unknown;
  item?: unknown;
  job: { name: string; description: string | null; timezone: string; locale: string };
  period: Period;
  slot: Date;
  now: Date;
  previous: unknown;
  /** The files the message will carry (names, titles), for "see the chart below" in templates. */
  attachments?: AttachmentInfo[];
}

export interface PlannedMessage {
  /** Stable across attempts of one run: which target, which fan-out item. The ledger keys deliveries by it. */
  key: string;
  target: { kind: TargetSpec['kind']; id: number; label: string };
  input: CreateMessageInput;
  /** Rendered attachments (filled in by the run after planning; uploaded right before posting). */
  files?: RenderedFile[];
}

export interface Plan {
  messages: PlannedMessage[];
  /** Messages whose template rendered empty (not posted). */
  emptyCount: number;
  /** Messages by fan-out item with the item's context: attachments are rendered once per item. */
  groups: Array<{ context: RenderContext; messages: PlannedMessage[] }>;
}

/** The API's limit on a button's text (characters), the one `validate` checks static texts against. */
const BUTTON_TEXT_MAX = CONFIG_DEFAULTS.limits.buttonTextMax;

const ENTITY: Record<TargetSpec['kind'], EntityType> = { chat: 'discussion', user: 'user', thread: 'thread' };

export function baseContext(job: JobConfig, parts: Omit<RenderContext, 'job'>): RenderContext {
  return {
    ...parts,
    job: { name: job.name, description: job.description ?? null, timezone: job.timezone, locale: job.locale },
  };
}

/** `deadline` (epoch ms, the run's timeout) stops a template still rendering then (see render/budget.ts). */
export function planMessages(job: JobConfig, context: RenderContext, deadline?: number): Plan {
  const counts = { empty: 0 };
  const groups = [...streamPlan(job, context, counts, deadline)];
  return { messages: groups.flatMap((g) => g.messages), emptyCount: counts.empty, groups };
}

/** The fan-out items: one `undefined` item without `for_each`. */
function planItems(job: JobConfig, context: RenderContext): unknown[] {
  if (!job.forEach) return [undefined];
  const list = getPath(context, job.forEach);
  if (!Array.isArray(list)) {
    throw new DigestError('E_SOURCE', `for_each: "${job.forEach}" is ${describe(list)}, not an array`, {
      location: { ...job.position, path: `${job.position.path}.for_each` },
      hint: `Point for_each at an array in the metrics (e.g. "metrics.teams"); run \`pachca-digest render ${job.name}\` to see the data.`,
    });
  }
  return list;
}

/** How many fan-out items the plan has (1 without `for_each`). */
export function planItemCount(job: JobConfig, context: RenderContext): number {
  return planItems(job, context).length;
}

/** How many messages the plan has at most (items × targets; empty renders and split parts aside). */
export function planSize(job: JobConfig, context: RenderContext): number {
  const items = planItems(job, context);
  // Keys are checked for the whole list before anything is posted: a clash fails the run whole.
  const seen = new Set<string>();
  if (job.itemKey) items.forEach((item, i) => itemKey(job, { ...context, item }, i, seen));
  return items.length * job.targets.length;
}

/**
 * The plan one fan-out item at a time, rendered as it is taken: a fan-out over thousands of
 * recipients holds only the messages in flight, not all of them. Items that render empty yield
 * nothing and count in `counts.empty`.
 */
export function* streamPlan(
  job: JobConfig,
  context: RenderContext,
  counts: { empty: number },
  deadline?: number,
  /** Only items [from, to): one replica's chunk of a shared fan-out (planSize checked the whole list's keys). */
  range?: { from: number; to: number },
): Generator<Plan['groups'][number]> {
  const opts: RenderOptions = { locale: job.locale, timezone: job.timezone, ...(deadline !== undefined ? { deadline } : {}) };
  const items = planItems(job, context);
  const seen = new Set<string>();
  for (let i = range?.from ?? 0; i < Math.min(items.length, range?.to ?? items.length); i++) {
    const index = job.forEach ? itemKey(job, { ...context, item: items[i] }, i, seen) : null;
    const base: RenderContext = index === null ? context : { ...context, item: items[i] };
    const ctx: RenderContext = { ...base, attachments: attachmentInfos(job.attachments ?? [], base as unknown as Record<string, unknown>, opts) };
    const group: Plan['groups'][number] = { context: ctx, messages: [] };
    const content = job.template.render(ctx as unknown as Record<string, unknown>, opts);
    for (const [targetIndex, target] of job.targets.entries()) {
      if (content.trim() === '') {
        counts.empty++;
        continue;
      }
      const id = resolveTargetId(target, ctx, opts);
      const key = `${target.kind}:${id}${index === null ? '' : `#${index}`}`;
      const input: CreateMessageInput = { entity_type: ENTITY[target.kind], entity_id: id, content };
      const buttons = renderButtons(target, ctx, opts, { job: job.name, slot: context.slot, target: targetIndex, key });
      if (buttons.length > 0) input.buttons = buttons;
      if (target.displayName) input.display_name = target.displayName;
      if (target.displayAvatarUrl) input.display_avatar_url = target.displayAvatarUrl;
      if (target.linkPreview !== undefined) input.link_preview = target.linkPreview;
      group.messages.push({ key, target: { kind: target.kind, id, label: `${target.kind}_id ${id}` }, input });
    }
    if (group.messages.length > 0) yield group;
  }
}

/**
 * What names fan-out item `i` in the ledger: its position, or the job's `key:` value (so a
 * reordered list still edits each item's own message). Two items with one key would share a
 * message: refused.
 */
function itemKey(job: JobConfig, ctx: RenderContext, i: number, seen: Set<string>): string {
  if (!job.itemKey) return String(i);
  const value = getPath(ctx, job.itemKey);
  const where = { ...job.position, path: `${job.position.path}.key` };
  if ((typeof value !== 'string' && typeof value !== 'number') || String(value).trim() === '') {
    throw new DigestError('E_SOURCE', `key: "${job.itemKey}" of item ${i} is ${describe(value)}, not a string or number`, {
      location: where,
      hint: `every item of ${job.forEach} needs that field; \`pachca-digest render ${job.name} --json\` shows the data`,
    });
  }
  // `~` separates a message's parts in the ledger's keys.
  const key = `k=${encodeURIComponent(String(value)).replace(/~/g, '%7E')}`;
  if (seen.has(key)) {
    throw new DigestError('E_SOURCE', `key: "${job.itemKey}" is ${JSON.stringify(value)} for more than one item of ${job.forEach}`, {
      location: where,
      hint: 'point key at a field that is unique per item (an id, a name)',
    });
  }
  seen.add(key);
  return key;
}

/** The messages of a plan stream, one at a time. */
export function* streamMessages(groups: Iterable<Plan['groups'][number]>): Generator<PlannedMessage> {
  for (const g of groups) yield* g.messages;
}

function resolveTargetId(target: TargetSpec, ctx: RenderContext, opts: RenderOptions): number {
  if (typeof target.id === 'number') return target.id;
  const text = renderTemplate(target.id, ctx, opts).trim();
  const id = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(id) || id <= 0) {
    throw new DigestError('E_TEMPLATE', `target ${target.kind}_id rendered to "${text}", not a positive integer`, {
      location: target.position,
      hint: 'Check the fan-out data: each item needs the id field the target refers to (e.g. item.chat_id).',
    });
  }
  return id;
}

/** Which message an action button belongs to: what its `data` payload carries. */
interface ButtonOwner {
  job: string;
  slot: Date;
  target: number;
  key: string;
}

function renderButtons(target: TargetSpec, ctx: RenderContext, opts: RenderOptions, owner: ButtonOwner): MessageButton[][] {
  const rows: MessageButton[][] = [];
  for (const row of target.buttons) {
    const out: MessageButton[] = [];
    for (const b of row) {
      const text = renderTemplate(b.text, ctx, opts).trim();
      if ([...text].length > BUTTON_TEXT_MAX) {
        throw new DigestError('E_TEMPLATE', `button text rendered to ${[...text].length} characters; Pachca allows at most ${BUTTON_TEXT_MAX}`, {
          location: target.position,
          hint: 'shorten the button text template (e.g. {{truncate item.name 60}}); put the details into the message',
        });
      }
      if (isActionButton(b)) {
        if (!text) continue;
        try {
          out.push({ text, data: encodeButtonData({ action: b.action, ...owner }) });
        } catch (err) {
          throw new DigestError('E_TEMPLATE', `button "${text}": ${(err as Error).message}`, { location: target.position, hint: 'Shorten the job name.' });
        }
        continue;
      }
      const url = renderTemplate(b.url, ctx, opts).trim();
      if (!text || !url) continue;
      if (!/^https?:\/\//i.test(url)) {
        throw new DigestError('E_TEMPLATE', `button "${text}" has url "${url}", which is not an http(s) URL`, {
          location: target.position,
          hint: 'Button urls must start with http:// or https://.',
        });
      }
      out.push({ text, url });
    }
    if (out.length > 0) rows.push(out);
  }
  return rows;
}

function renderTemplate(t: CompiledTemplate, ctx: RenderContext, opts: RenderOptions): string {
  return t.render(ctx as unknown as Record<string, unknown>, opts);
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  return `a ${typeof v}`;
}
