/**
 * `validate`: the config, schedules and templates (checked at load), then what the sources can tell
 * without running or a network (a file parses, a SQLite query prepares, a program is on PATH).
 * `validate --render` also renders every enabled job against its real data, posting nothing (CI).
 */
import { relative } from 'node:path';
import { DigestError, EXIT } from '../../errors.js';
import type { JobConfig, LoadedConfig } from '../../config/index.js';
import { loadConfigFor, newEmitter, ownerId, previewClientFor, type GlobalOptions, type Io } from '../context.js';
import { resolveSlot } from './run-job.js';
import { silentLogger } from '../../observability/logger.js';
import { scrubSecrets } from '../../observability/secrets.js';

export async function validateCommand(flags: { render?: boolean }, g: GlobalOptions, io: Io): Promise<number> {
  const config = await loadConfigFor(g, io);
  const enabled = config.jobs.filter((j) => j.enabled).length;
  for (const w of config.warnings) io.err(`warning: ${w}`);
  const file = relative(io.cwd, config.file) || config.file;
  const problems = await checkSources(config);
  if (problems.length > 0) {
    throw new DigestError('E_CONFIG', `${file}: ${problems.length} source problem(s)`, {
      details: problems,
      hint: 'fix the sources above; `validate` reads files and prepares queries but runs nothing',
    });
  }
  io.out(`✓ ${file}: ${config.jobs.length} job(s), ${enabled} enabled; sources, schedules and templates are valid`);
  if (!flags.render) return EXIT.OK;
  return renderAll(config, io);
}

async function checkSources(config: LoadedConfig): Promise<DigestError[]> {
  const { SourceError, sourceLabel } = await import('../../sources/index.js');
  const problems: DigestError[] = [];
  for (const job of config.jobs) {
    for (const spec of job.sources) {
      const check = spec.definition.check;
      if (!check) continue;
      try {
        await check({ job: { name: job.name }, options: spec.options, configDir: config.dir });
      } catch (err) {
        const e = err as Error;
        const p = spec.position;
        const location = err instanceof SourceError && err.location ? err.location : p ? { file: p.file, line: p.line, column: p.column, path: p.path } : undefined;
        problems.push(
          new DigestError('E_SOURCE', `job "${job.name}", ${sourceLabel(spec)}: ${e.message ?? String(err)}`, {
            ...(location ? { location } : {}),
            ...(err instanceof SourceError && err.hint ? { hint: err.hint } : {}),
            cause: err,
          }),
        );
      }
    }
  }
  return problems;
}

/** Every enabled job through the real pipeline as a dry run: sources, conditions, templates, attachments. */
async function renderAll(config: LoadedConfig, io: Io): Promise<number> {
  const { runJob } = await import('../../pipeline/index.js');
  let failed = 0;
  const now = new Date();
  for (const job of config.jobs.filter((j) => j.enabled)) {
    const outcome = await renderOne(runJob, config, job, now);
    if (outcome.status === 'failed') {
      failed++;
      io.err(`✗ ${job.name}: ${scrubSecrets(outcome.error ? outcome.error.format() : 'render failed')}`);
    } else if (outcome.messages.length === 0) {
      io.out(`✓ ${job.name}: renders; the run would be skipped (${outcome.reason ?? 'nothing to send'})`);
    } else {
      io.out(`✓ ${job.name}: renders ${outcome.messages.length} message(s)`);
    }
  }
  if (failed > 0) {
    io.err(`${failed} job(s) failed to render; nothing was posted`);
    return EXIT.JOB_FAILED;
  }
  return EXIT.OK;
}

async function renderOne(runJob: typeof import('../../pipeline/index.js').runJob, config: LoadedConfig, job: JobConfig, now: Date) {
  const events = newEmitter();
  const preview = await previewClientFor(config, job, events);
  return runJob(
    { config, events, logger: silentLogger, store: null, client: preview.client, owner: ownerId() },
    { job, slot: resolveSlot(job, undefined, now), dryRun: true, renderFiles: true },
  ).finally(preview.close);
}
