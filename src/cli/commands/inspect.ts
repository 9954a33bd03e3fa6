/** Commands that read the config and print: validate, list, render, schema, sources, history, k8s. */
import { readFile } from 'node:fs/promises';
import { DigestError, EXIT } from '../../errors.js';
import { describeCron, nextSlots, parseCron, formatInZone } from '../../scheduler/index.js';
import { runJob } from '../../pipeline/index.js';
import { formatPlannedMessage, table } from '../format.js';
import {
  deliversToSandbox,
  findJob,
  loadConfigFor,
  newEmitter,
  openStore,
  ownerId,
  previewClientFor,
  SANDBOX_LEDGER,
  sandboxStateUrl,
  type GlobalOptions,
  type Io,
} from '../context.js';
import { offScheduleWarning, resolveSlot } from './run-job.js';
import { silentLogger } from '../../observability/logger.js';
import { scrubSecrets } from '../../observability/secrets.js';

export async function listCommand(g: GlobalOptions, io: Io, now = new Date()): Promise<number> {
  const config = await loadConfigFor(g, io);
  const rows: string[][] = [['JOB', 'ENABLED', 'SCHEDULE', 'TIMEZONE', 'NEXT RUNS (job time zone / UTC)']];
  for (const job of config.jobs) {
    const schedule = parseCron(job.schedule);
    const next = job.enabled ? nextSlots(schedule, job.timezone, now, 3) : [];
    // Sub-minute schedules need seconds to tell their runs apart.
    const fmt = schedule.hasSeconds ? 'yyyy-MM-dd HH:mm:ss ZZ' : 'yyyy-MM-dd HH:mm ZZ';
    const utcChars = schedule.hasSeconds ? 19 : 16;
    const nextText = next.length
      ? next.map((d) => `${formatInZone(d, job.timezone, fmt)} / ${d.toISOString().slice(0, utcChars).replace('T', ' ')}Z`).join('; ')
      : job.enabled ? 'never' : '—';
    rows.push([job.name, job.enabled ? 'yes' : 'no', `${describeCron(schedule)} (${job.schedule})`, job.timezone, nextText]);
  }
  io.out(table(rows));
  return EXIT.OK;
}

export async function renderCommand(name: string, flags: { metrics?: string; slot?: string; json?: boolean; out?: string }, g: GlobalOptions, io: Io): Promise<number> {
  const config = await loadConfigFor(g, io, name);
  const job = findJob(config, name);
  let metrics: unknown;
  if (flags.metrics) metrics = await readMetricsFile(flags.metrics);
  const slot = resolveSlot(job, flags.slot, new Date());
  const offSchedule = flags.slot ? offScheduleWarning(job, slot) : undefined;
  if (offSchedule) io.err(offSchedule.replace(/ It runs as asked.*$/, ''));
  const events = newEmitter();
  const preview = await previewClientFor(config, job, events);
  const outcome = await runJob(
    { config, events, logger: silentLogger, store: null, client: preview.client, owner: ownerId() },
    { job, slot, dryRun: true, renderFiles: true, ...(metrics !== undefined ? { metrics } : {}) },
  ).finally(preview.close);
  if (outcome.status === 'failed') {
    io.err(scrubSecrets(outcome.error ? outcome.error.format() : 'render failed'));
    return outcome.error?.code === 'E_CONFIG' ? EXIT.USAGE : EXIT.JOB_FAILED;
  }
  if (flags.json) {
    // Files as their descriptions: the bytes go to --out, not into JSON.
    const messages = outcome.messages.map(({ files, ...m }) => (files ? { ...m, files: files.map(({ bytes, ...f }) => ({ ...f, size: bytes.length })) } : m));
    io.out(JSON.stringify({ job: job.name, slot: slot.toISOString(), status: outcome.status, reason: outcome.reason ?? null, messages }, null, 2));
  } else if (outcome.messages.length === 0) {
    io.err(`${job.name}: ${outcome.reason ?? 'nothing to send'} — the run would be skipped`);
  } else {
    outcome.messages.forEach((m, i) => io.out(formatPlannedMessage(m, i, outcome.messages.length) + '\n'));
  }
  if (flags.out) await writeAttachments(flags.out, outcome.messages, io);
  for (const n of outcome.notes) io.err(`note: ${n}`);
  const { lintMessage } = await import('../../render/index.js');
  for (const m of outcome.messages) {
    for (const w of lintMessage(m.input.content)) io.err(`warning: ${m.target.label}, line ${w.line}: ${w.message} — ${w.hint}`);
  }
  return EXIT.OK;
}

/** `render --out DIR`: each message's files, in DIR itself for one message, in DIR/<n>-<key>/ for several. */
async function writeAttachments(dir: string, messages: Awaited<ReturnType<typeof runJob>>['messages'], io: Io): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const withFiles = messages.filter((m) => m.files && m.files.length > 0);
  if (withFiles.length === 0) {
    io.err(`--out: the job has no attachments; nothing written to ${dir}`);
    return;
  }
  for (const [i, m] of withFiles.entries()) {
    const sub = withFiles.length === 1 ? dir : join(dir, `${String(i + 1).padStart(2, '0')}-${m.key.replace(/[^\w.-]+/g, '_')}`);
    await mkdir(sub, { recursive: true });
    for (const f of m.files!) {
      const file = join(sub, f.name);
      await writeFile(file, f.bytes);
      io.err(`wrote ${file} (${f.bytes.length} bytes${f.width ? `, ${f.width}×${f.height}` : ''})`);
    }
  }
}

async function readMetricsFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DigestError('E_USAGE', `cannot read --metrics file ${path}: ${(err as Error).message}`, { hint: 'Pass a JSON or YAML file with the metrics object.' });
  }
  try {
    if (/\.ya?ml$/i.test(path)) {
      const { parse } = await import('yaml');
      return parse(text);
    }
    return JSON.parse(text);
  } catch (err) {
    throw new DigestError('E_USAGE', `--metrics file ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message}`, {
      location: { file: path },
      hint: 'Fix the syntax; `render <job> --json` shows what the real sources return.',
    });
  }
}

export async function schemaCommand(io: Io): Promise<number> {
  const { configJsonSchema } = await import('../../config/index.js');
  io.out(JSON.stringify(configJsonSchema(), null, 2));
  return EXIT.OK;
}

export async function sourcesCommand(io: Io): Promise<number> {
  const { builtinSources, describeSourceOptions } = await import('../../sources/index.js');
  const blocks: string[] = [];
  for (const def of builtinSources()) {
    const lines = [`${def.name}${def.description ? ` — ${def.description}` : ''}`];
    for (const o of describeSourceOptions(def)) {
      lines.push(`  ${o.name}${o.required ? ' (required)' : ''}: ${o.type}${o.default !== undefined ? ` = ${JSON.stringify(o.default)}` : ''}${o.description ? ` — ${o.description}` : ''}`);
    }
    blocks.push(lines.join('\n'));
  }
  blocks.push('Every source also accepts: type, optional (bool), timeout (duration, default 30s), retries (int).\nCustom sources: type: ./plugins/name.js (relative to the config) or an npm package name.');
  io.out(blocks.join('\n\n'));
  return EXIT.OK;
}

export async function historyCommand(job: string | undefined, flags: { limit?: string; sandbox?: boolean }, g: GlobalOptions, io: Io): Promise<number> {
  const config = await loadConfigFor(g, io);
  if (job) findJob(config, job);
  const limit = flags.limit ? Number(flags.limit) : 20;
  if (!Number.isInteger(limit) || limit <= 0) throw new DigestError('E_USAGE', `--limit "${flags.limit}" is not a positive integer`);
  // The ledger the same environment's runs write to: without a token, runs went to a sandbox.
  const sandbox = deliversToSandbox(config, flags);
  const store = await openStore(sandbox ? sandboxStateUrl(config) : config.state.url, config);
  try {
    if (sandbox) {
      io.err(
        `${flags.sandbox ? '--sandbox' : 'PACHCA_TOKEN is not set'}: runs delivered to a sandbox, from the sandbox ledger ${SANDBOX_LEDGER}` +
          (flags.sandbox ? '' : ' (with PACHCA_TOKEN set, history shows the real ledger)'),
      );
    }
    const runs = await store.history({ ...(job ? { job } : {}), limit });
    if (runs.length === 0) {
      io.out('no runs recorded yet');
      return EXIT.OK;
    }
    // A sandbox's messages live as long as it runs: print a link only where a sandbox still answers.
    const live = sandbox ? await liveLinks(runs.flatMap((r) => r.deliveries.flatMap((d) => (d.url ? [d.url] : [])))) : null;
    let gone = 0;
    const link = (d: { url?: string | null; messageId: number }) => {
      if (!d.url) return `#${d.messageId}`;
      if (!live || live.has(d.url)) return d.url;
      gone++;
      return `#${d.messageId}†`;
    };
    // Sub-minute schedules need seconds to tell slots apart; then every row shows them.
    const withSeconds = runs.some((r) => r.slot.getUTCSeconds() !== 0);
    const rows = [['JOB', 'SLOT (UTC)', 'STATUS', 'DURATION', 'ATTEMPTS', 'MESSAGES', 'ERROR / REASON']];
    for (const r of runs) {
      const dur = r.finishedAt ? `${((r.finishedAt.getTime() - r.startedAt.getTime()) / 1000).toFixed(1)}s` : '—';
      const msgs = r.deliveries.map(link).join(' ') || '—';
      const why = r.error ? `${r.error.code}: ${r.error.message}` : (r.reason ?? '');
      const slot = r.slot.toISOString().slice(0, withSeconds ? 19 : 16).replace('T', ' ');
      rows.push([r.job, slot, r.status, dur, String(r.attempts), msgs, why]);
    }
    io.out(table(rows));
    if (gone) {
      io.out(
        `† posted to a sandbox that has stopped, so there is nothing to open. To see digests in a browser: npx pachca-digest --config ${config.file} sandbox, then «Запустить сейчас».`,
      );
    }
    return EXIT.OK;
  } finally {
    await store.close();
  }
}

/** Message URLs that still open: their sandbox is running and holds that message (ids restart with each sandbox). */
async function liveLinks(urls: string[]): Promise<Set<string>> {
  const byOrigin = new Map<string, string[]>();
  for (const u of urls) {
    try {
      const o = new URL(u).origin;
      byOrigin.set(o, [...(byOrigin.get(o) ?? []), u]);
    } catch {
      // not a URL: printed as an id
    }
  }
  const live = new Set<string>();
  await Promise.all(
    [...byOrigin].map(async ([origin, list]) => {
      try {
        const res = await fetch(`${origin}/__sandbox/messages`, { signal: AbortSignal.timeout(1500) });
        const body = (await res.json()) as { data?: Array<{ url?: string }> };
        const held = new Set((body.data ?? []).map((m) => m.url));
        for (const u of list) if (held.has(u)) live.add(u);
      } catch {
        // refused, silent or not a sandbox: nothing there to open
      }
    }),
  );
  return live;
}

export async function k8sCommand(flags: { image?: string; namespace?: string; skipUnsupported?: boolean }, g: GlobalOptions, io: Io): Promise<number> {
  const config = await loadConfigFor(g, io);
  const { collectDeployFiles } = await import('../deploy-files.js');
  const { renderK8sManifests, collectSourceFiles } = await import('../../deploy/index.js');
  const files = await collectDeployFiles(config);
  const sourceFiles = await collectSourceFiles(config);
  io.out(
    renderK8sManifests(config, {
      image: flags.image ?? 'ghcr.io/pachca-digest/pachca-digest:latest',
      namespace: flags.namespace ?? 'default',
      unsupportedSchedules: flags.skipUnsupported ? 'skip' : 'error',
      ...files,
      sourceFiles,
    }),
  );
  return EXIT.OK;
}
