/**
 * jobs.config.yaml → LoadedConfig. Everything is parsed, validated and compiled here (cron,
 * zones, source options, templates), so a config that loads cannot fail later for a reason the
 * file could have told. Every problem is collected and thrown once, as one E_CONFIG error.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DigestError } from '../errors.js';
import { CONFIG_DEFAULTS as D } from './defaults.js';
import type { RawConfig, RawDefaults } from './schema.js';
import type { JobConfig, LoadedConfig } from './types.js';
import { compileUnfurl } from './conditions.js';
import { formatPath } from './yaml.js';
import { PiecewiseYaml, splitJobs, WholeYaml, type ConfigYaml } from './yaml-pieces.js';
import { JobSections } from './loader-jobs.js';
import { definedOnly, displayPath, fallbackDefaults, isRecord, nonEmpty, readDotenv, schemas } from './loader-helpers.js';

export { displayPath } from './loader-helpers.js';

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

class Loader extends JobSections {
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
}
