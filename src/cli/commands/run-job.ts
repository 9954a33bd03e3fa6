import { DigestError, EXIT } from '../../errors.js';
import type { JobConfig, LoadedConfig } from '../../config/index.js';
import { dueSlots, formatInZone, latestSlot, nextSlot, parseCron } from '../../scheduler/index.js';
import { runJob, type RunOutcome } from '../../pipeline/index.js';
import { silentLogger } from '../../observability/logger.js';
import { formatPlannedMessage } from '../format.js';
import { formatProgress } from '../../pipeline/index.js';
import {
  findJob,
  loadConfigFor,
  makeLogger,
  newEmitter,
  openStore,
  ownerId,
  previewClientFor,
  processIo,
  resolveDelivery,
  shareTokenBudget,
  SANDBOX_LEDGER,
  type GlobalOptions,
  type Io,
} from '../context.js';

export interface RunJobFlags {
  dryRun?: boolean;
  slot?: string;
  force?: boolean;
  sandbox?: boolean;
}

/** The slot a one-shot run is for: the latest scheduled time at or before now, so a retried pod does not post twice. */
export function resolveSlot(job: JobConfig, flag: string | undefined, now: Date): Date {
  if (flag) {
    const d = new Date(flag);
    if (Number.isNaN(d.getTime())) {
      throw new DigestError('E_USAGE', `--slot "${flag}" is not a date`, { hint: 'Use ISO 8601, e.g. --slot 2026-11-24T09:00:00+03:00' });
    }
    return d;
  }
  // The due-slot rule's "latest slot": a one-shot run is the current slot, whatever the ledger says.
  const plan = dueSlots(
    { name: job.name, schedule: parseCron(job.schedule), timezone: job.timezone, catchUp: 'latest', startingDeadlineMs: Number.POSITIVE_INFINITY },
    { lastRun: null, firstSeen: null, watchingSince: null },
    now,
    { maxCatchUp: 1, countLimit: 1 },
  );
  return plan.latest ?? now;
}

/**
 * `--slot` at a time the schedule never fires: said, not refused. It still runs (backfills and tests
 * use exact instants), but the ledger then holds a slot the scheduler would not make, and the due
 * rule treats every scheduled slot up to it as handled. The nearest real slots are named.
 */
export function offScheduleWarning(job: JobConfig, slot: Date): string | undefined {
  const schedule = parseCron(job.schedule);
  const before = latestSlot(schedule, job.timezone, slot);
  if (before && before.getTime() === slot.getTime()) return undefined;
  const after = nextSlot(schedule, job.timezone, slot);
  const near = [before, after].filter((d): d is Date => d !== null).map((d) => `${formatInZone(d, job.timezone)} (${d.toISOString()})`);
  return (
    `warning: --slot ${slot.toISOString()} is not on ${job.name}'s schedule "${job.schedule}" (${job.timezone})` +
    (near.length ? `; nearest slots: ${near.join(', ')}` : '') +
    '. It runs as asked, and scheduled slots up to it count as handled.'
  );
}

export async function runJobCommand(name: string, flags: RunJobFlags, g: GlobalOptions, io: Io): Promise<number> {
  const config = await loadConfigFor(g, io, name);
  const job = findJob(config, name);
  const events = newEmitter();
  // A dry run prints its result; run logs are noise there unless asked for (and pino costs start-up).
  const logger = flags.dryRun && !g.logLevel ? silentLogger : await makeLogger(g, io, [config.pachca.token]);
  if (logger !== silentLogger) {
    const { attachLogging } = await import('../../observability/log.js');
    attachLogging(events, logger);
  }
  const slot = resolveSlot(job, flags.slot, new Date());
  const offSchedule = flags.slot ? offScheduleWarning(job, slot) : undefined;
  if (offSchedule) io.err(offSchedule);

  if (flags.dryRun) {
    const preview = await previewClientFor(config, job, events);
    const outcome = await runJob(
      { config, events, logger, store: null, client: preview.client, owner: ownerId() },
      { job, slot, dryRun: true },
    ).finally(preview.close);
    printOutcome(outcome, io, config, true, null);
    return exitFor(outcome);
  }

  const delivery = await resolveDelivery(config, events, { sandbox: flags.sandbox ?? false });
  const store = await openStore(delivery.stateUrl, config);
  const stopSignals = installSignalAbort(config.state.shutdownGraceMs);
  try {
    if (delivery.kind === 'sandbox') {
      io.err(
        `${flags.sandbox ? '--sandbox' : 'PACHCA_TOKEN is not set'}: delivering to the built-in sandbox, a local Pachca that lives as long as this command.\n` +
          (flags.sandbox ? '' : "  To send to Pachca: set PACHCA_TOKEN to your bot's token.\n"),
      );
    } else if (delivery.kind === 'external-sandbox') {
      io.err(`PACHCA_TOKEN is not set: delivering to ${delivery.description}.`);
    }
    // A fan-out on a terminal shows a progress bar (sent / total, rate, ETA) on stderr.
    const stopBar =
      io === processIo && process.stderr.isTTY
        ? events.on('run:progress', (p) => {
            if (p.total > 1) process.stderr.write(`\r\x1b[2K${formatProgress(p)}${p.done ? '\n' : ''}`);
          })
        : undefined;
    const owner = ownerId();
    // CronJobs of one token firing together (one per job) split its budget like daemon replicas.
    const budget = await shareTokenBudget(delivery, store, owner, logger);
    await budget.ready;
    const outcome = await runJob(
      { config, events, logger, store, client: delivery.client, owner },
      { job, slot, force: flags.force ?? false, retryFailed: true, signal: stopSignals.signal },
    ).finally(async () => {
      stopBar?.();
      await budget.stop();
    });
    printOutcome(outcome, io, config, false, delivery.kind === 'pachca' ? null : { description: delivery.description, linksLive: delivery.kind !== 'sandbox' });
    return exitFor(outcome);
  } finally {
    stopSignals.dispose();
    await store.close();
    await delivery.close();
  }
}

export function exitFor(outcome: RunOutcome): number {
  if (outcome.status === 'failed') return outcome.error?.code === 'E_CONFIG' ? EXIT.USAGE : EXIT.JOB_FAILED;
  if (outcome.status === 'interrupted') return EXIT.JOB_FAILED;
  return EXIT.OK;
}

/** Where a run delivered when it was not Pachca; `linksLive`: its message links outlive this command. */
export interface SandboxDelivery {
  description: string;
  linksLive: boolean;
}

export function printOutcome(outcome: RunOutcome, io: Io, config: LoadedConfig, dryRun: boolean, sandbox: SandboxDelivery | null): void {
  const slot = outcome.slot.toISOString();
  // Notes matter on every outcome: a digest that went out without an optional source, or with rows cut.
  if (outcome.status !== 'failed') for (const n of outcome.notes) io.err(`note: ${n}`);
  if (dryRun && outcome.messages.length > 0) {
    outcome.messages.forEach((m, i) => io.out(formatPlannedMessage(m, i, outcome.messages.length) + '\n'));
    io.err(`dry run of ${outcome.job} for slot ${slot}: ${outcome.messages.length} message(s), nothing posted`);
    return;
  }
  switch (outcome.status) {
    case 'succeeded': {
      const fresh = outcome.delivered.filter((d) => !d.reused);
      if (sandbox) {
        outcome.messages.forEach((m, i) => io.out(formatPlannedMessage(m, i, outcome.messages.length) + '\n'));
      }
      // A link into the in-process sandbox would be dead the moment this command exits: say so instead.
      const where = (url: string | null | undefined) => (sandbox && !sandbox.linksLive ? ' (in the built-in sandbox, which stops with this command)' : url ? ` ${url}` : '');
      for (const d of outcome.delivered) io.out(`✓ ${d.key}: message ${d.messageId}${where(d.url)}${d.reused ? ' (delivered earlier)' : ''}`);
      io.err(`${outcome.job} ${slot}: succeeded, ${fresh.length} message(s) posted${sandbox ? ` to ${sandbox.description}` : ''}`);
      if (sandbox) io.err(sandboxRecordedNote(config, sandbox));
      break;
    }
    case 'skipped':
      io.err(`${outcome.job} ${slot}: skipped — ${outcome.reason ?? 'nothing to send'}`);
      break;
    case 'already-done':
    case 'in-progress':
      // A replica that helped with the running slot's shared fan-out did something: say that only.
      if (outcome.status === 'in-progress' && outcome.delivered.length > 0) {
        io.err(`${outcome.job} ${slot}: ${outcome.reason}`);
        break;
      }
      io.err(`${outcome.job} ${slot}: ${outcome.reason}; nothing to do (use --force to run it again, or --slot for another slot)`);
      if (sandbox) io.err(`  (sandbox runs are recorded in ${SANDBOX_LEDGER}, apart from the real ledger: \`history\` lists them)`);
      break;
    case 'interrupted':
      io.err(`${outcome.job} ${slot}: interrupted — ${outcome.reason ?? 'stopped'}`);
      break;
    case 'failed':
      io.err(outcome.error ? outcome.error.format() : `${outcome.job} failed`);
      for (const n of outcome.notes) io.err(`  note: ${n}`);
      break;
  }
}

function sandboxRecordedNote(config: LoadedConfig, sandbox: SandboxDelivery): string {
  const lines = [`  recorded in the sandbox ledger ${SANDBOX_LEDGER} (\`history\` lists it; the real ledger is untouched): running this slot again says it is done, as in production.`];
  if (!sandbox.linksLive) {
    lines.push(
      `  To open digests in a browser: npx pachca-digest --config ${config.file} sandbox  (keeps running; «Запустить сейчас» on the «Задания» tab),`,
      '  or point PACHCA_API_URL at a running sandbox and the printed links open there.',
    );
  }
  return lines.join('\n');
}

/**
 * SIGTERM/SIGINT: the run gets `graceMs` to finish, then it is interrupted and its claim handed back (the ledger
 * records `interrupted`, and the next run-job / daemon sends only what is missing).
 */
function installSignalAbort(graceMs: number): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onSignal = (sig: string) => {
    timer ??= setTimeout(
      () => controller.abort(new DigestError('E_INTERRUPTED', `received ${sig}; the run did not finish within the shutdown grace of ${Math.round(graceMs / 1000)}s`)),
      graceMs,
    );
    timer.unref?.();
  };
  const term = () => onSignal('SIGTERM');
  const int = () => onSignal('SIGINT');
  process.once('SIGTERM', term);
  process.once('SIGINT', int);
  return {
    signal: controller.signal,
    dispose: () => {
      if (timer) clearTimeout(timer);
      process.off('SIGTERM', term);
      process.off('SIGINT', int);
    },
  };
}
