/** The loader's jobs layer: one job at a time, with its sources, attachments and conditions. */
import type { z } from 'zod';
import { isDigestError } from '../errors.js';
import { resolveSource } from '../sources/index.js';
import type { SourceDefinition } from '../sources/index.js';
import { describeValue } from './issues.js';
import { attachmentSchema, compileAttachments, type RawAttachment } from './attachments.js';
import { SOURCE_COMMON_KEYS, type RawDefaults, type RawJob, type RawSourceCommon } from './schema.js';
import type { JobConfig, SourceSpec } from './types.js';
import { compileConditions, type ConditionHelpers } from './conditions.js';
import type { PathSegment } from './yaml.js';
import { TopLevelSections } from './loader-sections.js';
import { isRecord, schemas } from './loader-helpers.js';

export class JobSections extends TopLevelSections {
  // --- jobs -------------------------------------------------------------------------------------

  protected async job(raw: unknown, i: number, defaults: RawDefaults, seen: Map<string, number>): Promise<JobConfig | undefined> {
    const p: PathSegment[] = ['jobs', i];
    if (!isRecord(raw)) {
      this.problem(p, `a job must be a mapping (name, schedule, source, template, target), got ${describeValue(raw)}`,
        'start each job with `- name: ...` and indent its keys under it');
      return undefined;
    }
    if (typeof raw.name === 'string') {
      const line = this.yaml.positionOf([...p, 'name']).line;
      const first = seen.get(raw.name);
      if (first !== undefined) {
        this.problem([...p, 'name'], `duplicate job name "${raw.name}" (first defined at line ${first})`, 'job names must be unique: rename one of them');
      } else seen.set(raw.name, line);
    }
    this.exactlyOne(raw, p, ['source', 'sources'], 'a data source: `source:` (one) or `sources:` (several, by name)');
    this.exactlyOne(raw, p, ['target', 'targets'], 'a destination: `target:` (one) or `targets:` (a list)');

    const schema = schemas.job();
    const parsed = schema.safeParse(raw);
    // Target id counts are checked on the raw value: zod skips object refinements after any child error.
    const rawTargets = isRecord(raw.target) ? [{ t: raw.target, path: [...p, 'target'] }] : Array.isArray(raw.targets)
      ? raw.targets.map((t, k) => ({ t, path: [...p, 'targets', k] })) : [];
    for (const { t, path } of rawTargets) if (isRecord(t)) this.targetIdCount(t, path);
    if (!parsed.success) {
      this.addIssues(parsed.error.issues, schema, raw, p);
      // Keep going where it does not depend on the failed parts: templates and sources report their own errors.
      if (typeof raw.template === 'string') this.template(raw.template, [...p, 'template']);
      await this.rawSources(raw, p);
      // Attachments that parse on their own still get their deeper checks (paths, templates, sheet names).
      if (Array.isArray(raw.attachments)) {
        raw.attachments.forEach((item, k) => {
          const one = attachmentSchema().safeParse(item);
          if (one.success) this.attachments([one.data], [...p, 'attachments'], raw.for_each !== undefined, k);
        });
      }
      return undefined;
    }
    const job = parsed.data as RawJob;
    const sources = await this.sources(raw, job, p);
    const template = this.template(job.template, [...p, 'template']);
    const targets = this.targets(job, p, defaults);
    const alerts = job.alerts ? this.alerts(job.alerts, [...p, 'alerts']) : undefined;
    const attachments = this.attachments(job.attachments, [...p, 'attachments'], job.for_each !== undefined);
    const conditions = await compileConditions(job, p, this.helpers());
    // Checked per job: a template shared by jobs in different locales may suit one and not another.
    const locale = job.locale ?? defaults.locale;
    const localeProblems = template ? template.localeProblems(locale) : [];
    for (const e of localeProblems) this.problems.push(this.displayed(e, `job "${job.name}" (locale ${locale})`));
    if (!sources || !template || !targets || !attachments || !conditions || localeProblems.length > 0) return undefined;

    const out: JobConfig = {
      name: job.name,
      schedule: job.schedule.trim(),
      timezone: job.timezone ?? defaults.timezone,
      locale,
      enabled: job.enabled,
      sources,
      namedSources: job.sources !== undefined,
      template,
      templateFile: template.file,
      targets,
      onEmpty: job.on_empty,
      period: job.period ?? defaults.period,
      catchUp: job.catch_up ?? defaults.catch_up,
      startingDeadlineMs: job.starting_deadline ?? defaults.starting_deadline,
      concurrency: job.concurrency ?? defaults.concurrency,
      timeoutMs: job.timeout ?? defaults.timeout,
      retries: {
        count: job.retries?.count ?? defaults.retries.count,
        backoffMs: job.retries?.backoff ?? defaults.retries.backoff,
      },
      delivery: job.delivery,
      splitToThread: job.split_to_thread,
      ...conditions,
      position: this.position(p),
    };
    if (job.description !== undefined) out.description = job.description;
    if (attachments.length > 0) out.attachments = attachments;
    if (job.for_each) out.forEach = job.for_each;
    if (job.skip_if) out.skipIf = job.skip_if;
    if (job.key !== undefined) {
      if (job.for_each) out.itemKey = job.key;
      else this.problem([...p, 'key'], '`key` names the items of `for_each`, but the job has no for_each', 'add `for_each: metrics.<list>` or remove `key`');
    }
    if (alerts) out.alerts = alerts;
    if (job.heartbeat_url) out.heartbeatUrl = job.heartbeat_url;
    return out;
  }

  protected helpers(): ConditionHelpers {
    return {
      position: (path) => this.position(path),
      problem: (path, message, hint) => this.problem(path, message, hint),
      template: (rel, path) => this.template(rel, path),
    };
  }

  protected attachments(list: RawAttachment[] | undefined, path: PathSegment[], hasForEach: boolean, offset = 0) {
    return compileAttachments(list, path, {
      problem: (at, message, hint) => this.problem(at, message, hint),
      inline: (source, at) => this.inline(source, at),
      // A .md card renders headings and tables: the message lint does not apply.
      template: (rel, at) => this.template(rel, at, false),
      position: (at) => this.position(at),
      hasForEach,
    }, offset);
  }

  protected exactlyOne(raw: Record<string, unknown>, p: PathSegment[], keys: [string, string], what: string): void {
    const present = keys.filter((k) => raw[k] !== undefined);
    const name = typeof raw.name === 'string' ? `job "${raw.name}"` : 'this job';
    if (present.length === 2) {
      this.problem([...p, keys[1]], `${name} has both ${keys[0]} and ${keys[1]}`, `keep exactly one: ${what}`, true);
    } else if (present.length === 0) {
      this.problem(p, `${name} has neither ${keys[0]} nor ${keys[1]}`, `add ${what}`);
    }
  }


  // --- sources ----------------------------------------------------------------------------------

  protected sourceEntries(raw: Record<string, unknown>, p: PathSegment[]): Array<{ name: string | undefined; raw: unknown; path: PathSegment[] }> {
    if (raw.source !== undefined && raw.sources === undefined) return [{ name: undefined, raw: raw.source, path: [...p, 'source'] }];
    if (raw.sources !== undefined && raw.source === undefined && isRecord(raw.sources)) {
      return Object.entries(raw.sources).map(([name, v]) => ({ name, raw: v, path: [...p, 'sources', name] }));
    }
    return [];
  }

  /** Source checks for a job whose other fields failed: report unknown types and bad options too. */
  protected async rawSources(raw: Record<string, unknown>, p: PathSegment[]): Promise<void> {
    for (const e of this.sourceEntries(raw, p)) {
      if (isRecord(e.raw) && typeof e.raw.type === 'string' && e.raw.type !== '') await this.sourceOptions(e.raw, e.raw.type, e.path);
    }
  }

  protected async sources(raw: Record<string, unknown>, job: RawJob, p: PathSegment[]): Promise<SourceSpec[] | null> {
    const entries = this.sourceEntries(raw, p);
    if (entries.length === 0) {
      if (isRecord(raw.sources) && Object.keys(raw.sources).length === 0) {
        this.problem([...p, 'sources'], '`sources:` is empty', 'name at least one source, e.g. `sources: { sales: { type: static, data: {...} } }`');
      }
      return null;
    }
    const specs: SourceSpec[] = [];
    let ok = true;
    for (const e of entries) {
      const common = (e.name === undefined ? job.source : job.sources?.[e.name]) as RawSourceCommon;
      const resolved = await this.sourceOptions(e.raw as Record<string, unknown>, common.type, e.path);
      if (!resolved) {
        ok = false;
        continue;
      }
      specs.push({
        name: e.name,
        type: common.type,
        definition: resolved.definition,
        options: resolved.options,
        optional: common.optional,
        timeoutMs: common.timeout,
        retries: common.retries,
        position: this.position(e.path),
      });
    }
    return ok ? specs : null;
  }

  protected async sourceOptions(raw: Record<string, unknown>, type: string, path: PathSegment[]): Promise<{ definition: SourceDefinition; options: unknown } | null> {
    let definition: SourceDefinition;
    try {
      definition = await resolveSource(type, this.dir);
    } catch (err) {
      if (!isDigestError(err)) throw err;
      this.problem([...path, 'type'], err.message, err.hint);
      return null;
    }
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) if (!(SOURCE_COMMON_KEYS as readonly string[]).includes(k)) rest[k] = v;
    const result = (definition.options as z.ZodType).safeParse(rest);
    if (!result.success) {
      this.addIssues(result.error.issues, definition.options as z.core.$ZodType, rest, path, [...SOURCE_COMMON_KEYS]);
      return null;
    }
    return { definition, options: result.data };
  }
}
