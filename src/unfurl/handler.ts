/**
 * Unfurl: a `link_shared` event (via either event mode) → for each link that matches an
 * `unfurl:` rule, the rule's job renders WITHOUT posting (a dry run: no claim, no ledger) and the
 * service adds a preview card with `POST /messages/{id}/link_previews`. Pachca fails the whole
 * request when one entry is bad, so each URL gets its own request: one failed render or one
 * rejected preview never costs the others. Links no rule matches, and links whose preview the
 * author hid (`skip: true`: the bot must not add one), are ignored.
 */
import type { JobConfig, LoadedConfig, UnfurlRule } from '../config/index.js';
import type { DigestEmitter } from '../events.js';
import type { PachcaClient } from '../pachca/index.js';
import { computePeriod, latestSlot, nextSlot, parseCron } from '../scheduler/index.js';
import { fillParams, matchUrl, parsePattern, type UrlPattern } from './match.js';

/** The `link_shared` webhook payload (LinkSharedWebhookPayload in Pachca's OpenAPI). */
export interface LinkSharedEvent {
  type: 'message';
  event: 'link_shared';
  chat_id: number;
  message_id: number;
  /** `skip`: the author hid the preview of this link; the bot must not add one. */
  links: Array<{ url: string; domain: string; skip: boolean }>;
  user_id: number;
  created_at: string;
  webhook_timestamp: number;
}

export interface RenderedPreview {
  /** The message text the job would post. */
  content: string;
  /** A chart image of the job, uploaded as the API documents for previews. */
  image?: { key: string; name: string; size: number };
}

export interface UnfurlDeps {
  config: LoadedConfig;
  client: PachcaClient;
  events: DigestEmitter;
  /** Renders `job` for `slot` without posting; throws (or returns null) when it cannot. */
  render(job: JobConfig, slot: Date, signal?: AbortSignal): Promise<RenderedPreview | null>;
  now: Date;
  signal?: AbortSignal;
}

export interface UnfurlResult {
  previews: string[];
  ignored: string[];
  failed: Array<{ url: string; reason: string }>;
}

/** Pachca documents no length limits for previews; these keep a card readable and well inside any. */
export const PREVIEW_LIMITS = { title: 150, description: 600 } as const;

export function isLinkSharedEvent(e: unknown): e is LinkSharedEvent {
  const v = e as Partial<LinkSharedEvent> | null;
  return !!v && v.event === 'link_shared' && typeof v.message_id === 'number' && Array.isArray(v.links);
}

export async function handleLinkShared(deps: UnfurlDeps, event: LinkSharedEvent): Promise<UnfurlResult> {
  const result: UnfurlResult = { previews: [], ignored: [], failed: [] };
  const rules = compiledRules(deps.config.unfurl ?? []);
  const seen = new Set<string>();
  for (const link of event.links) {
    const url = link?.url;
    if (typeof url !== 'string' || seen.has(url)) continue;
    seen.add(url);
    if (link.skip === true) {
      result.ignored.push(url);
      continue;
    }
    const hit = firstMatch(rules, url);
    const job = hit && deps.config.jobs.find((j) => j.name === hit.rule.job);
    if (!hit || !job) {
      result.ignored.push(url);
      continue;
    }
    const fail = (reason: string) => {
      result.failed.push({ url, reason });
      deps.events.emit('unfurl:preview', { messageId: event.message_id, url, job: job.name, ok: false, reason });
    };
    try {
      const slot = slotFor(job, hit.rule, hit.params, deps.now);
      if (!slot) {
        fail(`no slot of "${job.name}" for ${hit.rule.slot ? fillParams(hit.rule.slot, hit.params) : 'now'}`);
        continue;
      }
      const rendered = await deps.render(job, slot, deps.signal);
      if (!rendered || rendered.content.trim() === '') {
        fail('the job rendered nothing');
        continue;
      }
      const preview = { ...cardText(rendered.content, job), ...(rendered.image ? { image: rendered.image } : {}) };
      await deps.client.request('POST', `/messages/${event.message_id}/link_previews`, {
        body: { link_previews: { [url]: preview } },
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
      result.previews.push(url);
      deps.events.emit('unfurl:preview', { messageId: event.message_id, url, job: job.name, ok: true });
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
    }
  }
  return result;
}

const cache = new WeakMap<UnfurlRule[], Array<{ rule: UnfurlRule; pattern: UrlPattern }>>();
function compiledRules(rules: UnfurlRule[]) {
  let c = cache.get(rules);
  if (!c) {
    c = rules.map((rule) => ({ rule, pattern: parsePattern(rule.pattern) }));
    cache.set(rules, c);
  }
  return c;
}

function firstMatch(rules: Array<{ rule: UnfurlRule; pattern: UrlPattern }>, url: string) {
  for (const r of rules) {
    const params = matchUrl(r.pattern, url);
    if (params) return { rule: r.rule, params };
  }
  return null;
}

/**
 * The slot a link asks for: a date (`2026-11-30`) means the latest slot on that day in the job's
 * time zone, a date-time the latest slot at or before it; no `slot:` means the latest slot now.
 */
export function slotFor(job: Pick<JobConfig, 'schedule' | 'timezone'> & { period?: JobConfig['period'] }, rule: Pick<UnfurlRule, 'slot'>, params: Record<string, string>, now: Date): Date | null {
  const schedule = parseCron(job.schedule);
  if (!rule.slot) return latestSlot(schedule, job.timezone, now);
  const value = fillParams(rule.slot, params).trim();
  let bound: Date;
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (day) {
    const dayStart = (y: number, m: number, d: number) => {
      const t = new Date(Date.UTC(y, m - 1, d));
      return new Date(t.getTime() - zoneOffsetMs(job.timezone, t));
    };
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    // A report of yesterday's numbers (previous_day, …) shows that date's data in a later slot: the
    // link's date is the data's day, so take the first slot whose period covers it.
    const covering = job.period && CALENDAR_PERIODS.has(job.period) ? coveringSlot(schedule, job.timezone, job.period, dayStart(y, m, d)) : null;
    if (covering) return covering.getTime() <= now.getTime() ? covering : latestSlot(schedule, job.timezone, now);
    // Otherwise the last instant of that calendar day in the job's zone.
    bound = new Date(dayStart(y, m, d + 1).getTime() - 1);
  } else {
    const t = Date.parse(value);
    if (Number.isNaN(t)) return null;
    bound = new Date(t);
  }
  // A link to the future shows today's numbers, never a slot that has not happened.
  if (bound.getTime() > now.getTime()) bound = now;
  return latestSlot(schedule, job.timezone, bound);
}

const CALENDAR_PERIODS = new Set<JobConfig['period']>(['previous_day', 'previous_week', 'previous_month']);
/** How far ahead a covering slot is looked for: a monthly report of a date is at most ~a month later. */
const COVERING_SEARCH = 200;

function coveringSlot(schedule: ReturnType<typeof parseCron>, timeZone: string, period: JobConfig['period'], instant: Date): Date | null {
  let previous = latestSlot(schedule, timeZone, instant);
  let slot = nextSlot(schedule, timeZone, instant);
  for (let i = 0; slot && i < COVERING_SEARCH; i++) {
    const p = computePeriod(period, { slot, previousSlot: previous, timeZone });
    if (p.start.getTime() <= instant.getTime() && instant.getTime() < p.end.getTime()) return slot;
    if (p.start.getTime() > instant.getTime()) return null;
    previous = slot;
    slot = nextSlot(schedule, timeZone, slot);
  }
  return null;
}

function zoneOffsetMs(timeZone: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at);
  const n = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - at.getTime();
}

/** Title: the message's first line; description: the rest, as plain text (Pachca shows it unformatted). */
export function cardText(content: string, job: Pick<JobConfig, 'name' | 'description'>): { title: string; description: string } {
  const lines = plain(content).split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const title = clip(lines[0] ?? job.description ?? job.name, PREVIEW_LIMITS.title);
  const description = clip(lines.slice(1).join('\n'), PREVIEW_LIMITS.description);
  return { title, description };
}

function plain(md: string): string {
  return md
    .replace(/```[^\n]*\n?/g, '')
    .replace(/\[([^\]]+)\]\((?:[^)]+)\)/g, '$1')
    .replace(/(\*\*|__|~~|`)/g, '')
    .replace(/(^|\s)[*_](\S[^*_]*\S|\S)[*_](?=\s|$|[.,;:!?])/g, '$1$2');
}

function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}
