/**
 * jobs.config.yaml → LoadedConfig. Everything is parsed, validated and compiled here (cron,
 * zones, source options, templates), so a config that loads cannot fail later for a reason the
 * file could have told. Every problem is collected and thrown once, as one E_CONFIG error.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { DigestError, isDigestError } from '../errors.js';
import { createTemplateEngine, lintMessage } from '../render/index.js';
import type { CompiledTemplate, TemplateEngine } from '../render/index.js';
import { resolveSource } from '../sources/index.js';
import type { SourceDefinition } from '../sources/index.js';
import { parseStateUrl } from '../state/index.js';
import { CLIENT_DEFAULTS } from '../pachca/defaults.js';
import { CONFIG_DEFAULTS as D } from './defaults.js';
import { describeValue, didYouMean, issuesToProblems, type Problem } from './issues.js';
import { attachmentSchema, compileAttachments, type RawAttachment } from './attachments.js';
import {
  configSchema,
  defaultsSchema,
  jobSchema,
  looseSourceSchema,
  SOURCE_COMMON_KEYS,
  type RawAlerts,
  type RawConfig,
  type RawDefaults,
  type RawJob,
  type RawSourceCommon,
  type RawTarget,
} from './schema.js';
import type {
  AlertSettings,
  JobConfig,
  LoadedConfig,
  SourcePosition,
  SourceSpec,
  TargetSpec,
  UrlButton,
  ActionButton,
  EventSettings,
  TargetButton,
} from './types.js';
import { compileConditions, compileUnfurl, type ConditionHelpers } from './conditions.js';
import { isActionButton } from './types.js';
import type { RawActionButton } from './schema-events.js';
import { MAX_BUTTON_DATA, worstCaseButtonDataLength } from '../interactions/payload.js';
import { formatPath, type PathSegment } from './yaml.js';
import { PiecewiseYaml, splitJobs, WholeYaml, type ConfigYaml } from './yaml-pieces.js';

export interface LoadOptions {
  /** Config file; default `$PACHCA_DIGEST_CONFIG`, then `<cwd>/jobs.config.yaml`. */
  file?: string;
  cwd?: string;
  /** Environment; default `process.env` (never modified). */
  env?: Record<string, string | undefined>;
  /**
   * Load just this job (`run-job`, `render`): the others are not compiled, since one Kubernetes pod
   * runs one job and start-up is part of every digest's cost. `validate` and the daemon load all.
   */
  only?: string;
}

const CONFIG_HINT =
  `pass --config PATH, set ${D.env.config}, or create ${D.configFile} in the working directory ` +
  '(the repository root has a commented jobs.config.yaml to start from; every field: docs/configuration.md)';

export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const given = options.env ?? process.env;
  const cwdDotenv = readDotenv(join(cwd, '.env'));
  const file = resolve(
    cwd,
    options.file ?? nonEmpty(given[D.env.config]) ?? nonEmpty(cwdDotenv[D.env.config]) ?? D.configFile,
  );
  const display = displayPath(cwd, file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'config file not found' : code === 'EISDIR' ? 'is a directory, not a config file' : `cannot read the config file (${code ?? String(err)})`;
    throw new DigestError('E_CONFIG', `${display}: ${what}`, { location: { file: display }, hint: CONFIG_HINT, cause: err });
  }
  return loadConfigFromText(text, { file, cwd, env: given, dotenv: cwdDotenv, ...(options.only ? { only: options.only } : {}) });
}

export interface LoadTextOptions {
  /** Where the text came from: its directory anchors relative paths and `.env`. */
  file: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Already-read `<cwd>/.env` (internal). */
  dotenv?: Record<string, string>;
  only?: string;
  /** Read the YAML as one document even where it could be read job by job (tests compare the two). */
  oneDocument?: boolean;
  /** Told each way the YAML was read, in order (tests). */
  onRead?: (how: 'pieces' | 'whole') => void;
}

/** The load path for text already in memory (tests, `validate -`). */
export async function loadConfigFromText(text: string, options: LoadTextOptions): Promise<LoadedConfig> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const file = resolve(cwd, options.file);
  const dir = dirname(file);
  const cwdDotenv = options.dotenv ?? readDotenv(join(cwd, '.env'));
  const env: Record<string, string | undefined> = {
    ...cwdDotenv,
    ...(dir === cwd ? {} : readDotenv(join(dir, '.env'))),
    ...definedOnly(options.env ?? process.env),
  };
  const args = [file, displayPath(cwd, file), dir, cwd, env, options.only] as const;
  const pieces = options.oneDocument ? null : splitJobs(text);
  if (pieces) {
    options.onRead?.('pieces');
    try {
      return await new Loader(...args).run(new PiecewiseYaml(pieces));
    } catch {
      // Whatever went wrong job by job is found again, and reported, on the whole document.
    }
  }
  options.onRead?.('whole');
  return new Loader(...args).run(new WholeYaml(text));
}

// One parse per process: zod's JIT fast path costs more to generate than it saves here.
z.config({ jitless: true });

/**
 * Built once per process (zod schemas are costly to construct), and only when a config is loaded.
 * `full` (the top level with jobs spelled out) only describes a broken top level, so a config that
 * loads never builds it: that is a tenth of a one-shot run's start-up.
 */
let cachedTop: z.ZodType | undefined;
let cachedJob: z.ZodType | undefined;
let cachedFull: z.ZodType | undefined;
const schemas = {
  top: () => (cachedTop ??= configSchema(z.unknown())),
  job: () => (cachedJob ??= jobSchema(looseSourceSchema())),
  full: () => (cachedFull ??= configSchema(schemas.job())),
};

class Loader {
  private readonly problems: DigestError[] = [];
  private readonly warnings: string[] = [];
  private yaml!: ConfigYaml;
  private secrets = new Set<string>();
  private engine: TemplateEngine | undefined;
  private readonly templates = new Map<string, CompiledTemplate | null>();
  /** Paths whose `${VAR}` could not be resolved: their value is reported once, not again as invalid. */
  private readonly unresolved = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly display: string,
    private readonly dir: string,
    private readonly cwd: string,
    private readonly env: Record<string, string | undefined>,
    private readonly only?: string,
  ) {}

  async run(yaml: ConfigYaml): Promise<LoadedConfig> {
    this.yaml = yaml;
    for (const p of yaml.problems) this.push(p.message, p.hint, { line: p.line, column: p.column });
    if (this.problems.length) this.fail();

    const interpolation = yaml.interpolate(this.env);
    // The same set: job by job, it grows as jobs are read.
    this.secrets = yaml.secrets;
    for (const p of interpolation) if (p.path) this.unresolved.add(formatPath(p.path));
    for (const p of interpolation) this.push(p.message, p.hint, { line: p.line, column: p.column, ...(p.path ? { path: formatPath(p.path) } : {}) });
    const token = nonEmpty(this.env[D.env.token]);
    if (token) this.secrets.add(token);

    const data = this.toValues();
    if (data === null || data === undefined) {
      this.push('the config file is empty', 'start with `version: 1` and a `jobs:` list (see docs/configuration.md)', { line: 1, column: 1 });
      this.fail();
    }

    const top = schemas.top().safeParse(data, { reportInput: false });
    if (!top.success) this.addIssues(top.error.issues, schemas.full(), data, []);
    const rawJobs = isRecord(data) && Array.isArray(data.jobs) ? (data.jobs as unknown[]) : [];
    const cfg = top.success ? (top.data as unknown as RawConfig) : undefined;
    // Jobs are still checked when the top level is broken, so one pass shows everything.
    const defaults: RawDefaults = cfg?.defaults ?? fallbackDefaults(data);
    const templatesDir = resolve(this.dir, cfg?.templates_dir ?? (isRecord(data) && typeof data.templates_dir === 'string' ? data.templates_dir : D.templatesDir));
    this.setupEngine(templatesDir);

    const alerts = cfg?.alerts ? this.alerts(cfg.alerts, ['alerts']) : undefined;
    const jobs: JobConfig[] = [];
    const seen = new Map<string, number>();
    const skipped: string[] = [];
    for (let i = 0; i < rawJobs.length; i++) {
      const raw = this.yaml.job(data, i);
      if (this.only !== undefined && isRecord(raw) && typeof raw.name === 'string' && raw.name !== this.only) {
        skipped.push(raw.name);
        continue;
      }
      const job = await this.job(raw, i, defaults, seen);
      if (job) jobs.push(job);
    }

    if (!cfg || this.problems.length) this.fail();
    const unfurl = compileUnfurl(cfg.unfurl, jobs, skipped, this.helpers());
    const pachca = this.pachca(cfg);
    const state = this.state(cfg);
    const events = this.events(cfg, jobs);
    if (this.problems.length) this.fail();

    const loaded: LoadedConfig = {
      file: this.file,
      dir: this.dir,
      templatesDir,
      version: 1,
      pachca,
      state,
      jobs,
      unfurl,
      warnings: this.warnings,
    };
    if (skipped.length) loaded.skippedJobs = skipped;
    // Values of secret-looking variables: the CLI registers them so logs and errors mask them.
    loaded.secrets = [...this.secrets];
    if (alerts) loaded.alerts = alerts;
    if (cfg.heartbeat_url) loaded.heartbeatUrl = cfg.heartbeat_url;
    if (events) loaded.events = events;
    return loaded;
  }

  // --- problems ---------------------------------------------------------------------------------

  private push(message: string, hint: string | undefined, at: { line: number; column: number; path?: string }): void {
    this.problems.push(
      new DigestError('E_CONFIG', this.scrub(message), {
        location: { file: this.display, line: at.line, column: at.column, ...(at.path ? { path: at.path } : {}) },
        ...(hint ? { hint: this.scrub(hint) } : {}),
      }),
    );
  }

  /** yaml's own alias guard (aliases inside anchors, resolved many times) as a config problem, not a crash. */
  private toValues(): unknown {
    try {
      return this.yaml.values();
    } catch (err) {
      if (!(err instanceof ReferenceError)) throw err;
      const first = this.yaml.firstAlias();
      this.push(`cannot expand the aliases: ${err.message}`, 'each *alias copies the whole value of its &anchor; aliases of aliases multiply. Write the values out or use fewer aliases', first);
      this.fail();
    }
  }

  private problem(path: readonly PathSegment[], message: string, hint?: string, atKey = false): void {
    if (!atKey && this.unresolved.has(formatPath(path))) return;
    const pos = this.yaml.positionOf(path, { key: atKey });
    this.push(message, hint, { ...pos, path: formatPath(path) });
  }

  private addIssues(issues: readonly z.core.$ZodIssue[], schema: z.core.$ZodType, data: unknown, prefix: PathSegment[], extraKeys?: string[]): void {
    const problems = issuesToProblems(issues, {
      schema,
      data,
      prefix,
      extraKeys,
      isSecret: (path) => this.isSecret(path),
    });
    for (const p of problems) this.report(p);
  }

  private report(p: Problem): void {
    const path = p.path;
    if (path.length === 1 && path[0] === 'version' && !p.atKey) {
      const missing = /^missing/.test(p.message);
      this.problem(path, missing ? 'missing required key "version"' : `unsupported config version: ${p.message.split(' is not allowed')[0]}`,
        missing ? 'add `version: 1` as the first line' : 'this pachca-digest reads `version: 1` only');
      return;
    }
    this.problem(path, p.message, p.hint, p.atKey);
  }

  private isSecret(path: readonly PathSegment[]): boolean {
    if (path[0] === 'pachca' && path[1] === 'token') return true;
    return this.yaml.isSecretNode(path);
  }

  /** Secret values never reach an error message, whatever path they took. */
  private scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) if (s.length >= 3) out = out.split(s).join('***');
    return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@"]+:)[^\s@"]+@/gi, '$1***@');
  }

  private fail(): never {
    const inConfig = this.problems.filter((p) => p.location?.file === this.display);
    const others = this.problems.filter((p) => p.location?.file !== this.display);
    inConfig.sort((a, b) => (a.location!.line ?? 0) - (b.location!.line ?? 0) || (a.location!.column ?? 0) - (b.location!.column ?? 0));
    const details = [...inConfig, ...others];
    const n = details.length;
    throw new DigestError('E_CONFIG', `${this.display}: ${n} problem${n === 1 ? '' : 's'}`, {
      location: { file: this.display },
      hint: 'fix the problems above, then check with `pachca-digest validate`',
      details,
    });
  }

  // --- templates --------------------------------------------------------------------------------

  private setupEngine(templatesDir: string): void {
    if (!existsSync(templatesDir) || !statSync(templatesDir).isDirectory()) {
      // Reported once, at the first job that needs a template.
      this.missingTemplatesDir = { dir: templatesDir, reported: false };
      return;
    }
    this.engine = createTemplateEngine({ templatesDir });
  }

  private missingTemplatesDir: { dir: string; reported: boolean } | undefined;

  private template(rel: string, path: PathSegment[], lint = true): CompiledTemplate | null {
    if (!this.engine) {
      const m = this.missingTemplatesDir!;
      if (m.reported) return null;
      m.reported = true;
      this.problem(path, `templates directory ${displayPath(this.cwd, m.dir)} does not exist (needed for template ${JSON.stringify(rel)})`,
        'create it next to the config, or set `templates_dir:` to the directory that holds your .hbs files');
      return null;
    }
    const templatesDir = this.engine.templatesDir;
    const abs = resolve(templatesDir, rel);
    if (isAbsolute(rel) || !(abs + sep).startsWith(resolve(templatesDir) + sep) || abs === resolve(templatesDir)) {
      this.problem(path, `template ${JSON.stringify(rel)} is not a file inside templates_dir (${displayPath(this.cwd, templatesDir)})`,
        'give a path relative to templates_dir, e.g. `template: daily.hbs`');
      return null;
    }
    if (this.templates.has(abs)) return this.templates.get(abs)!;
    if (!existsSync(abs) || !statSync(abs).isFile()) {
      const available = listTemplates(templatesDir);
      const guess = didYouMean(rel, available);
      this.problem(path, `template file not found: ${displayPath(this.cwd, abs)}`,
        guess ? `did you mean "${guess}"?` : available.length ? `available in ${displayPath(this.cwd, templatesDir)}/: ${available.slice(0, 10).join(', ')}` : `create ${displayPath(this.cwd, abs)}`);
      this.templates.set(abs, null);
      return null;
    }
    let compiled: CompiledTemplate | null = null;
    try {
      compiled = this.engine.compileFile(relative(templatesDir, abs));
      for (const w of lint ? lintMessage(compiled.source) : []) {
        this.warnings.push(`${displayPath(this.cwd, abs)}:${w.line}: ${w.message} (${w.hint})`);
      }
    } catch (err) {
      this.problems.push(this.displayed(asProblem(err, 'E_TEMPLATE', { file: displayPath(this.cwd, abs) })));
    }
    this.templates.set(abs, compiled);
    return compiled;
  }

  /** A template error with its file shown relative to the working directory, optionally naming who hit it. */
  private displayed(e: DigestError, who?: string): DigestError {
    const file = e.location?.file;
    if (!who && !(file && isAbsolute(file))) return e;
    const location = file && isAbsolute(file) ? { ...e.location, file: displayPath(this.cwd, file) } : e.location;
    return new DigestError(e.code, who ? `${e.message} (in ${who})` : e.message, { location, hint: e.hint, cause: e, details: e.details });
  }

  private inline(source: string, path: PathSegment[]): CompiledTemplate | null {
    if (!this.engine) return null;
    const pos = this.yaml.positionOf(path);
    try {
      return this.engine.compileInline(source, { file: this.display, line: pos.line, column: pos.column, path: formatPath(path) }, { raw: true });
    } catch (err) {
      const e = asProblem(err, 'E_CONFIG', { file: this.display, line: pos.line, column: pos.column, path: formatPath(path) });
      this.problems.push(e);
      return null;
    }
  }

  // --- jobs -------------------------------------------------------------------------------------

  private async job(raw: unknown, i: number, defaults: RawDefaults, seen: Map<string, number>): Promise<JobConfig | undefined> {
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

  private helpers(): ConditionHelpers {
    return {
      position: (path) => this.position(path),
      problem: (path, message, hint) => this.problem(path, message, hint),
      template: (rel, path) => this.template(rel, path),
    };
  }

  private attachments(list: RawAttachment[] | undefined, path: PathSegment[], hasForEach: boolean, offset = 0) {
    return compileAttachments(list, path, {
      problem: (at, message, hint) => this.problem(at, message, hint),
      inline: (source, at) => this.inline(source, at),
      // A .md card renders headings and tables: the message lint does not apply.
      template: (rel, at) => this.template(rel, at, false),
      position: (at) => this.position(at),
      hasForEach,
    }, offset);
  }

  private exactlyOne(raw: Record<string, unknown>, p: PathSegment[], keys: [string, string], what: string): void {
    const present = keys.filter((k) => raw[k] !== undefined);
    const name = typeof raw.name === 'string' ? `job "${raw.name}"` : 'this job';
    if (present.length === 2) {
      this.problem([...p, keys[1]], `${name} has both ${keys[0]} and ${keys[1]}`, `keep exactly one: ${what}`, true);
    } else if (present.length === 0) {
      this.problem(p, `${name} has neither ${keys[0]} nor ${keys[1]}`, `add ${what}`);
    }
  }

  private position(path: PathSegment[]): SourcePosition {
    return { file: this.display, ...this.yaml.positionOf(path), path: formatPath(path) };
  }

  // --- sources ----------------------------------------------------------------------------------

  private sourceEntries(raw: Record<string, unknown>, p: PathSegment[]): Array<{ name: string | undefined; raw: unknown; path: PathSegment[] }> {
    if (raw.source !== undefined && raw.sources === undefined) return [{ name: undefined, raw: raw.source, path: [...p, 'source'] }];
    if (raw.sources !== undefined && raw.source === undefined && isRecord(raw.sources)) {
      return Object.entries(raw.sources).map(([name, v]) => ({ name, raw: v, path: [...p, 'sources', name] }));
    }
    return [];
  }

  /** Source checks for a job whose other fields failed: report unknown types and bad options too. */
  private async rawSources(raw: Record<string, unknown>, p: PathSegment[]): Promise<void> {
    for (const e of this.sourceEntries(raw, p)) {
      if (isRecord(e.raw) && typeof e.raw.type === 'string' && e.raw.type !== '') await this.sourceOptions(e.raw, e.raw.type, e.path);
    }
  }

  private async sources(raw: Record<string, unknown>, job: RawJob, p: PathSegment[]): Promise<SourceSpec[] | null> {
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

  private async sourceOptions(raw: Record<string, unknown>, type: string, path: PathSegment[]): Promise<{ definition: SourceDefinition; options: unknown } | null> {
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

  // --- targets ----------------------------------------------------------------------------------

  private targetIdCount(t: Record<string, unknown>, path: PathSegment[]): void {
    const ids = ['chat_id', 'user_id', 'thread_id'].filter((k) => t[k] !== undefined);
    if (ids.length === 0) {
      this.problem(path, 'target has no chat_id, user_id or thread_id', 'add exactly one: `chat_id: 123` (a chat), `user_id:` (a direct message) or `thread_id:`');
    } else if (ids.length > 1) {
      this.problem([...path, ids[1]!], `target has both ${ids[0]} and ${ids[1]}`, 'keep exactly one of chat_id, user_id, thread_id (use `targets:` for several destinations)', true);
    }
  }

  private targets(job: RawJob, p: PathSegment[], defaults: RawDefaults): TargetSpec[] | null {
    const list: Array<{ t: RawTarget; path: PathSegment[] }> = job.target
      ? [{ t: job.target, path: [...p, 'target'] }]
      : (job.targets ?? []).map((t, k) => ({ t, path: [...p, 'targets', k] }));
    if (list.length === 0) return null;
    const out: TargetSpec[] = [];
    let ok = true;
    for (const [i, { t, path }] of list.entries()) {
      const spec = this.target(t, path, job, defaults, i);
      if (spec) out.push(spec);
      else ok = false;
    }
    return ok ? out : null;
  }

  private target(t: RawTarget, path: PathSegment[], job: RawJob, defaults: RawDefaults, targetIndex: number): TargetSpec | null {
    const kinds = [['chat', 'chat_id'], ['user', 'user_id'], ['thread', 'thread_id']] as const;
    const found = kinds.filter(([, k]) => t[k] !== undefined);
    if (found.length !== 1) return null; // reported by targetIdCount
    const [kind, key] = found[0]!;
    const id = this.targetId(t[key]!, [...path, key], job);
    const buttons = this.buttons(t.buttons, [...path, 'buttons'], job, targetIndex);
    if (id === null || buttons === null) return null;
    const spec: TargetSpec = { kind, id, buttons, position: this.position(path) };
    const d = defaults.target ?? {};
    const displayName = t.display_name ?? d.display_name;
    const avatar = t.display_avatar_url ?? d.display_avatar_url;
    const preview = t.link_preview ?? d.link_preview;
    if (displayName !== undefined) spec.displayName = displayName;
    if (avatar !== undefined) spec.displayAvatarUrl = avatar;
    if (preview !== undefined) spec.linkPreview = preview;
    return spec;
  }

  private targetId(value: number | string, path: PathSegment[], job: RawJob): number | CompiledTemplate | null {
    if (typeof value === 'number') return value;
    const text = value.trim();
    if (/^\d+$/.test(text)) {
      const n = Number(text);
      if (n > 0 && Number.isSafeInteger(n)) return n;
    } else if (text.includes('{{')) {
      if (/\bitem\b/.test(text) && !job.for_each) {
        this.problem(path, `target id ${JSON.stringify(value)} uses "item" but the job has no for_each`, 'add `for_each: metrics.<list>` to send one message per item, or use a fixed id');
        return null;
      }
      return this.inline(text, path);
    }
    this.problem(path, `bad target id ${describeValue(value, this.isSecret(path))}`, 'use a positive integer id (e.g. `chat_id: 12345`) or a template such as "{{item.chat_id}}" (with for_each)');
    return null;
  }

  private urlButton(b: { text: string; url: string }, bp: PathSegment[], job: RawJob): UrlButton | null {
    if (!/\{\{/.test(b.url) && !isHttpUrl(b.url)) {
      this.problem([...bp, 'url'], `button url ${describeValue(b.url)} is not an http(s) URL`, 'write a full URL such as https://example.com/report, or a template like "{{metrics.url}}"');
      return null;
    }
    if (!job.for_each && (/\{\{[^}]*\bitem\b/.test(b.text) || /\{\{[^}]*\bitem\b/.test(b.url))) {
      this.problem(bp, 'button uses "item" but the job has no for_each', 'add `for_each:` or use metrics instead of item');
      return null;
    }
    const text = this.inline(b.text, [...bp, 'text']);
    const url = this.inline(b.url, [...bp, 'url']);
    return text && url ? { text, url } : null;
  }

  private actionButton(b: RawActionButton, bp: PathSegment[], job: RawJob, targetIndex: number): ActionButton | null {
    if (b.action === 'details' && !b.template) {
      this.problem(bp, 'a `details` button needs `template:`', 'name the template of the direct message, e.g. `template: details.hbs`');
      return null;
    }
    if (b.action !== 'details' && b.template) {
      this.problem([...bp, 'template'], `\`template\` belongs to \`details\` buttons, not \`${b.action}\``, 'remove `template:` or use `action: details`', true);
      return null;
    }
    if (!job.for_each && /\{\{[^}]*\bitem\b/.test(b.text)) {
      this.problem(bp, 'button uses "item" but the job has no for_each', 'add `for_each:` or use metrics instead of item');
      return null;
    }
    const longest = worstCaseButtonDataLength(job.name, targetIndex);
    if (longest > MAX_BUTTON_DATA) {
      this.problem(bp, `the button data of job "${job.name}" can reach ${longest} characters; Pachca allows ${MAX_BUTTON_DATA}`, 'shorten the job name');
      return null;
    }
    const text = this.inline(b.text, [...bp, 'text']);
    const template = b.template ? this.template(b.template, [...bp, 'template']) : undefined;
    if (!text || template === null) return null;
    return { text, action: b.action, ...(template ? { template } : {}) };
  }

  private buttons(raw: RawTarget['buttons'], path: PathSegment[], job: RawJob, targetIndex: number): TargetButton[][] | null {
    if (!raw || raw.length === 0) return [];
    const allRows = raw.every((r) => Array.isArray(r));
    const noRows = raw.every((r) => !Array.isArray(r));
    if (!allRows && !noRows) {
      this.problem(path, 'buttons mix single buttons and rows', 'write either a list of buttons (one row) or a list of rows (each a list of buttons)');
      return null;
    }
    type RawButton = { text: string; url: string } | RawActionButton;
    const rows = allRows
      ? (raw as RawButton[][]).map((row, r) => ({ row, path: [...path, r] }))
      : [{ row: raw as RawButton[], path }];
    const { buttonsPerRow, buttonsTotal, buttonTextMax } = D.limits;
    let ok = true;
    let total = 0;
    const out: TargetButton[][] = [];
    for (const { row, path: rowPath } of rows) {
      total += row.length;
      if (row.length > buttonsPerRow) {
        this.problem(rowPath, `a row of buttons has ${row.length} buttons; Pachca allows at most ${buttonsPerRow} per row`, 'split the row: write buttons as a list of rows, e.g. `buttons: [[{...}, {...}], [{...}]]`');
        ok = false;
        continue;
      }
      const compiled: TargetButton[] = [];
      row.forEach((b, k) => {
        const bp = [...rowPath, k];
        // Static text is checked here; a templated one when it is rendered (plan).
        const chars = [...b.text].length;
        if (!/\{\{/.test(b.text) && chars > buttonTextMax) {
          this.problem([...bp, 'text'], `button text is ${chars} characters; Pachca allows at most ${buttonTextMax}`, 'shorten the button text; put the details into the message');
          ok = false;
          return;
        }
        const built = 'action' in b ? this.actionButton(b, bp, job, targetIndex) : this.urlButton(b, bp, job);
        if (built) compiled.push(built);
        else ok = false;
      });
      out.push(compiled);
    }
    if (total > buttonsTotal) {
      this.problem(path, `${total} buttons; Pachca allows at most ${buttonsTotal} per message`, 'remove buttons or link to a page that lists them');
      ok = false;
    }
    return ok ? out : null;
  }

  // --- top-level sections -----------------------------------------------------------------------

  private alerts(a: RawAlerts, path: PathSegment[]): AlertSettings | undefined {
    if ((a.chat_id === undefined) === (a.user_id === undefined)) {
      this.problem(path, a.chat_id === undefined ? 'alerts need a chat_id or a user_id' : 'alerts have both chat_id and user_id',
        'give exactly one: `chat_id: 123` (a chat) or `user_id: 456` (a direct message)');
      return undefined;
    }
    const target = a.chat_id !== undefined ? { kind: 'chat' as const, id: a.chat_id } : { kind: 'user' as const, id: a.user_id! };
    return { target, on: [...new Set(a.on)], after: a.after };
  }

  private pachca(cfg: RawConfig): LoadedConfig['pachca'] {
    const p = cfg.pachca;
    const envUrl = nonEmpty(this.env[D.env.baseUrl]);
    if (envUrl && !isHttpUrl(envUrl)) {
      this.problems.push(new DigestError('E_CONFIG', `${D.env.baseUrl}=${JSON.stringify(this.scrub(envUrl))} is not an http(s) URL`, {
        location: { path: `env.${D.env.baseUrl}` },
        hint: `set ${D.env.baseUrl} to a URL such as ${D.pachca.baseUrl}, or unset it`,
      }));
    }
    const written = this.wasWritten(['pachca', 'base_url']);
    const r = p.rate_limits;
    const bucket = (b: { per_second: number; burst: number }) => ({ perSecond: b.per_second, burst: b.burst });
    return {
      token: nonEmpty(this.env[D.env.token]) ?? p.token ?? '',
      baseUrl: (envUrl ?? p.base_url).replace(/\/+$/, ''),
      baseUrlExplicit: Boolean(envUrl) || written,
      // Spread the client defaults first: settings the config does not expose keep their defaults.
      rateLimits: {
        ...CLIENT_DEFAULTS.rateLimits,
        messageWrite: bucket(r.message_write),
        messageRead: bucket(r.message_read),
        eventHistory: bucket(r.event_history),
        other: bucket(r.other),
        token: bucket(r.token),
        breakerThreshold: r.breaker_threshold,
        breakerSlowdown: r.breaker_slowdown,
        breakerCooldownMs: r.breaker_cooldown,
      },
      retry: {
        ...CLIENT_DEFAULTS.retry,
        retries: p.retry.retries,
        baseDelayMs: p.retry.base_delay,
        maxDelayMs: p.retry.max_delay,
        rateLimitRetries: p.retry.rate_limit_retries,
        minRetryAfterMs: p.retry.min_retry_after,
        maxRetryAfterMs: p.retry.max_retry_after,
        maxTotalMs: p.retry.max_total,
        dedupeLookback: p.retry.dedupe_lookback,
        settleMs: p.retry.settle,
      },
      timeouts: {
        ...CLIENT_DEFAULTS.timeouts,
        connectMs: p.timeouts.connect,
        headersMs: p.timeouts.headers,
        bodyMs: p.timeouts.body,
        requestMs: p.timeouts.request,
      },
      maxMessageBytes: p.max_message_bytes,
    };
  }

  private state(cfg: RawConfig): LoadedConfig['state'] {
    const envUrl = nonEmpty(this.env[D.env.state]);
    const url = envUrl ?? cfg.state.url;
    let resolved = url;
    try {
      const parsed = parseStateUrl(url, this.dir);
      if (parsed.kind === 'sqlite') resolved = `sqlite:${parsed.path}`;
    } catch (err) {
      if (!isDigestError(err)) throw err;
      if (envUrl) {
        this.problems.push(new DigestError('E_CONFIG', `${D.env.state}: ${this.scrub(err.message)}`, { location: { path: `env.${D.env.state}` }, hint: err.hint }));
      } else this.problem(['state', 'url'], err.message, err.hint);
    }
    return { url: resolved, leaseMs: cfg.state.lease, shutdownGraceMs: cfg.state.shutdown_grace, retention: { ...cfg.state.retention } };
  }

  private events(cfg: RawConfig, jobs: JobConfig[]): EventSettings | undefined {
    const e = cfg.events;
    if (!e) {
      const job = jobs.find((j) => j.targets.some((t) => t.buttons.some((row) => row.some(isActionButton))));
      if (job) this.warnings.push(`job "${job.name}" has action buttons but the config has no \`events:\` section: clicks are not received (add \`events: { mode: poll }\`)`);
      return undefined;
    }
    const secret = e.signing_secret ?? nonEmpty(this.env[D.env.webhookSecret]);
    if (secret) this.secrets.add(secret);
    if (e.mode === 'webhook' && !secret) {
      this.problem(['events'], 'events.mode is `webhook` but there is no signing secret',
        `set the ${D.env.webhookSecret} environment variable to the bot's signing secret (bot settings, «Исходящий webhook»), or \`signing_secret: \${${D.env.webhookSecret}}\``);
    }
    return { mode: e.mode, pollIntervalMs: e.poll_interval, path: e.path, maxAgeMs: e.max_age, ...(secret ? { signingSecret: secret } : {}) };
  }

  private wasWritten(path: PathSegment[]): boolean {
    return this.yaml.lookup(path).exact;
  }
}

// --- helpers -------------------------------------------------------------------------------------

function fallbackDefaults(data: unknown): RawDefaults {
  const raw = isRecord(data) ? data.defaults : undefined;
  const r = defaultsSchema().safeParse(raw);
  return r.success ? r.data : defaultsSchema().parse(undefined);
}

function asProblem(err: unknown, code: 'E_TEMPLATE' | 'E_CONFIG', location: DigestError['location']): DigestError {
  if (isDigestError(err)) {
    return err.location?.file ? err : new DigestError(err.code, err.message, { location: { ...location, ...err.location }, hint: err.hint, cause: err });
  }
  return new DigestError(code, (err as Error)?.message ?? String(err), { location, cause: err });
}

function listTemplates(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 3 || out.length > 200) return;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, entry.name);
      if (entry.isDirectory()) walk(abs, depth + 1);
      else if (entry.isFile()) out.push(relative(dir, abs).split(sep).join('/'));
    }
  };
  try {
    walk(dir, 0);
  } catch {
    // An unreadable directory only loses the suggestion.
  }
  return out.sort();
}

function readDotenv(file: string): Record<string, string> {
  try {
    return parseDotenv(readFileSync(file));
  } catch {
    return {};
  }
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Relative to cwd when inside it (short, clickable), absolute otherwise. */
export function displayPath(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}
