/**
 * Load-time compilation of `when:`, `change_key:`, `notify:`, `monitor:` (per job) and `unfurl:`
 * (top level). Kept out of load.ts so that file stays about the file format; the loader passes in
 * how it reports problems and compiles templates.
 */
import { compileExpression, type Expression } from '../monitor/index.js';
import type { NotifyPolicy } from '../monitor/index.js';
import { parsePattern } from '../unfurl/index.js';
import { isDigestError } from '../errors.js';
import type { CompiledTemplate } from '../render/index.js';
import type { RawJob, RawUnfurl } from './schema.js';
import type { JobConfig, MonitorConfig, SourcePosition, UnfurlRule } from './types.js';
import type { PathSegment } from './yaml.js';

export interface ConditionHelpers {
  position(path: PathSegment[]): SourcePosition;
  problem(path: PathSegment[], message: string, hint?: string): void;
  template(rel: string, path: PathSegment[]): CompiledTemplate | null;
}

type Conditions = Pick<JobConfig, 'when' | 'changeKey' | 'notify' | 'monitor'>;

/** Null when a problem was reported. */
export async function compileConditions(job: RawJob, p: PathSegment[], h: ConditionHelpers): Promise<Conditions | null> {
  let ok = true;
  const expr = async (field: 'when' | 'change_key', source: string | undefined): Promise<Expression | undefined> => {
    if (source === undefined) return undefined;
    const position = h.position([...p, field]);
    try {
      return await compileExpression(source, position, field);
    } catch (err) {
      if (!isDigestError(err)) throw err;
      h.problem([...p, field], err.message, err.hint);
      ok = false;
      return undefined;
    }
  };
  const when = await expr('when', job.when);
  const changeKey = await expr('change_key', job.change_key);
  const notify: NotifyPolicy = job.notify ?? (job.when !== undefined ? 'when_true' : 'always');

  if (job.notify === 'when_true' && job.when === undefined) {
    h.problem([...p, 'notify'], '`notify: when_true` needs a `when:` condition', 'add `when: <condition>` to the job, or remove `notify`');
    ok = false;
  }
  if (job.notify === 'on_change' && job.when === undefined && job.change_key === undefined) {
    h.problem([...p, 'notify'], '`notify: on_change` needs `when:` or `change_key:` to compare', 'add `when:` and/or `change_key:`');
    ok = false;
  }
  if (job.change_key !== undefined && notify !== 'on_change' && job.monitor === undefined) {
    h.problem([...p, 'change_key'], '`change_key` is only used with `notify: on_change`', 'add `notify: on_change`, or remove `change_key`');
    ok = false;
  }

  let monitor: MonitorConfig | undefined;
  if (job.monitor !== undefined) {
    const m = job.monitor === true ? {} : job.monitor;
    const mp = [...p, 'monitor'];
    if (job.when === undefined) {
      h.problem(mp, 'a monitor needs a `when:` condition (the alert fires while it is true)', 'add e.g. `when: metrics.queue > 100`');
      ok = false;
    }
    if (job.notify !== undefined) {
      h.problem([...p, 'notify'], 'a monitor posts by its own lifecycle (fire, update, resolve); `notify` does not apply', 'remove `notify`');
      ok = false;
    }
    if (job.for_each !== undefined) {
      h.problem([...p, 'for_each'], 'a monitor keeps one alert message; `for_each` (one message per item) is not supported with `monitor`', 'make one monitor job per item, or drop for_each');
      ok = false;
    }
    if ((job.targets?.length ?? 1) > 1) {
      h.problem([...p, 'targets'], 'a monitor posts its alert to exactly one target', 'use `target:` with one chat, user or thread');
      ok = false;
    }
    if (job.delivery === 'update') {
      h.problem([...p, 'delivery'], 'a monitor already edits its alert in place; `delivery: update` does not apply', 'remove `delivery`');
      ok = false;
    }
    let resolvedTemplate: CompiledTemplate | undefined;
    if ('resolved_template' in m && m.resolved_template) {
      const t = h.template(m.resolved_template, [...mp, 'resolved_template']);
      if (!t) ok = false;
      else resolvedTemplate = t;
    }
    monitor = {
      forMs: ('for' in m ? m.for : undefined) ?? 0,
      repeatMs: ('repeat' in m ? m.repeat : undefined) ?? null,
      mentions: (('mentions' in m ? m.mentions : undefined) ?? []).map((n) => (n.startsWith('@') ? n : `@${n}`)),
      ...(resolvedTemplate ? { resolvedTemplate } : {}),
    };
    if (monitor.repeatMs === 0) {
      h.problem([...mp, 'repeat'], 'repeat must be longer than 0', 'write e.g. `repeat: 4h`, or leave it out for no reminders');
      ok = false;
    }
  }
  if (!ok) return null;
  return { notify, ...(when ? { when } : {}), ...(changeKey ? { changeKey } : {}), ...(monitor ? { monitor } : {}) };
}

/** Pachca lets an Unfurl bot watch up to 5 domains. */
export const UNFURL_MAX_DOMAINS = 5;

export function compileUnfurl(raw: RawUnfurl | undefined, jobs: { name: string }[], skipped: string[], h: ConditionHelpers): UnfurlRule[] {
  const rules: UnfurlRule[] = [];
  const known = new Set([...jobs.map((j) => j.name), ...skipped]);
  (raw ?? []).forEach((r, i) => {
    const p: PathSegment[] = ['unfurl', i];
    let domain: string;
    try {
      domain = parsePattern(r.pattern).host;
    } catch (err) {
      h.problem([...p, 'pattern'], `bad URL pattern ${JSON.stringify(r.pattern)}: ${(err as Error).message}`, 'write a full URL such as https://bi.example.ru/sales/daily?date=:date');
      return;
    }
    if (!known.has(r.job)) {
      h.problem([...p, 'job'], `unfurl rule refers to job "${r.job}", which is not in jobs`, `jobs: ${[...known].slice(0, 10).join(', ')}`);
      return;
    }
    const params = new Set([...r.pattern.matchAll(/:([A-Za-z_]\w*)/g)].map((m) => m[1]!));
    for (const m of (r.slot ?? '').matchAll(/:([A-Za-z_]\w*)/g)) {
      if (!params.has(m[1]!)) {
        h.problem([...p, 'slot'], `slot uses :${m[1]}, which the pattern does not define`, params.size ? `the pattern defines: ${[...params].map((x) => `:${x}`).join(', ')}` : 'add it to the pattern, e.g. ?date=:date');
        return;
      }
    }
    rules.push({ pattern: r.pattern, domain, job: r.job, ...(r.slot ? { slot: r.slot } : {}), position: h.position(p) });
  });
  const domains = new Set(rules.map((r) => r.domain));
  if (domains.size > UNFURL_MAX_DOMAINS) {
    h.problem(['unfurl'], `unfurl rules cover ${domains.size} domains; a Pachca Unfurl bot watches at most ${UNFURL_MAX_DOMAINS}`, `domains: ${[...domains].join(', ')}`);
  }
  return rules;
}
