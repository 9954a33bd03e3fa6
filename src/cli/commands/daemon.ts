/** `run` (the daemon), `run-due` (one pass for a frequent CronJob) and `sandbox`. */
import { EXIT, DigestError } from '../../errors.js';
import type { JobConfig, LoadedConfig } from '../../config/index.js';
import type { StateStore } from '../../state/index.js';
import type { Logger } from '../../observability/index.js';
import type { DigestEmitter } from '../../events.js';
import { runJob, shareable, type RunOutcome } from '../../pipeline/index.js';
import { dueSlots, parseCron } from '../../scheduler/index.js';
import type { PachcaClient } from '../../pachca/index.js';
import type { Sandbox, WebOptions } from '../../sandbox/index.js';
import { clientOptions, loadConfigFor, openCommand, sandboxStateUrl, makeLogger, newEmitter, openStore, ownerId, resolveDelivery, sandboxBot, shareTokenBudget, type GlobalOptions, type Io } from '../context.js';
import { webJobsProvider } from '../web-jobs.js';
import { listenOn, parsePort } from '../ports.js';

export interface DaemonFlags {
  sandbox?: boolean;
  httpPort?: string;
  httpHost?: string;
}

function runner(config: () => LoadedConfig, client: () => PachcaClient, store: StateStore, events: DigestEmitter, logger: Logger, owner: string) {
  return async (job: JobConfig, slot: Date, opts: { signal?: AbortSignal; retryFailed?: boolean }): Promise<RunOutcome> => {
    // runJob includes what follows the outcome (alerts, heartbeat, retention).
    return runJob(
      { config: config(), events, logger, store, client, owner },
      { job, slot, retryFailed: opts.retryFailed ?? false, ...(opts.signal ? { signal: opts.signal } : {}) },
    );
  };
}

/** "Run now" from the sandbox page: the job as currently configured, into the sandbox. */
function runNowFor(config: () => LoadedConfig, run: ReturnType<typeof runner>) {
  return (name: string, slot: Date) => {
    const job = config().jobs.find((j) => j.name === name);
    if (!job) throw new DigestError('E_USAGE', `no job named "${name}"`);
    return run(job, slot, {});
  };
}

export async function daemonCommand(flags: DaemonFlags, g: GlobalOptions, io: Io): Promise<number> {
  let config = await loadConfigFor(g, io);
  const events = newEmitter();
  const logger = await makeLogger(g, io, [config.pachca.token]);
  const { attachLogging } = await import('../../observability/log.js');
  attachLogging(events, logger);
  // The sandbox page's Jobs view runs jobs through this daemon's own runner (bound once it exists).
  const late: { runNow?: (name: string, slot: Date) => Promise<RunOutcome> } = {};
  const web = { jobs: webJobsProvider(() => config, (name, slot) => late.runNow!(name, slot)) };
  const delivery = await resolveDelivery(config, events, { sandbox: flags.sandbox ?? false, web });
  const store = await openStore(delivery.stateUrl, config);
  const owner = ownerId();
  const run = runner(() => config, delivery.client, store, events, logger, owner);
  late.runNow = runNowFor(() => config, run);
  const { Daemon } = await import('../../scheduler/daemon.js');
  // Runs a killed process left `running` are found by the periodic sweep: with a short lease, check that often, not once a minute.
  const sweepMs = Math.min(60_000, Math.max(1_000, config.state.leaseMs));
  const daemon = new Daemon({ jobs: config.jobs, store, run, events, logger, sweepIntervalMs: sweepMs, shutdownGraceMs: config.state.shutdownGraceMs });

  const budget = await shareTokenBudget(delivery, store, owner, logger);
  await budget.ready;
  const { createRouter, startIntake, sandboxIntake } = await import('./events.js');
  const intakeDeps = { config: () => config, client: delivery.client, store, events, logger, owner };
  // A webhook config keeps its webhook against a sandbox too (the sandbox can POST to it).
  const intakeSettings = delivery.kind === 'sandbox' && config.events?.mode !== 'webhook' ? sandboxIntake(config.events) : config.events;
  const intake = startIntake(intakeDeps, createRouter(intakeDeps), intakeSettings);
  if (intake.webhookRoute && flags.httpPort === undefined) {
    logger.warn({ path: intake.webhookRoute.path }, 'events.mode is webhook but --http-port is not set: nothing receives the webhooks');
  }

  let health: { port: number; close(): Promise<void> } | undefined;
  if (flags.httpPort !== undefined) {
    const port = parsePort(flags.httpPort, '--http-port');
    const { createMetrics } = await import('../../observability/metrics.js');
    const { startHealthServer } = await import('../../observability/http.js');
    const metrics = createMetrics(events, { jobs: config.jobs.map((j) => j.name) });
    // A busy port ends the command: what is already open (the sandbox, the ledger) closes first.
    health = await listenOn(port, '--http-port', () => startHealthServer({
      port,
      host: flags.httpHost ?? '0.0.0.0',
      metrics,
      ...(intake.webhookRoute ? { routes: { [intake.webhookRoute.path]: intake.webhookRoute.handler } } : {}),
      checks: {
        live: () => {
          const last = daemon.lastTick;
          const ok = last !== null && Date.now() - last.getTime() < 3 * 60_000;
          return { ok, detail: last ? `last tick ${last.toISOString()}` : 'scheduler not started' };
        },
        ready: async () => {
          try {
            await store.ping();
            return { ok: true, detail: `${config.jobs.length} jobs loaded; state store reachable` };
          } catch (err) {
            return { ok: false, detail: `state store unreachable: ${(err as Error).message}` };
          }
        },
      },
    })).catch(async (err: unknown) => {
      await intake.stop();
      await budget.stop();
      await store.close();
      await delivery.close();
      throw err;
    });
    // The bound port: with --http-port 0 it is the free one the system picked.
    logger.info({ port: health.port }, 'metrics and health on /metrics, /healthz, /readyz');
  }

  if (delivery.kind !== 'pachca') {
    logger.info({ where: delivery.description }, flags.sandbox ? 'delivering to the built-in sandbox (--sandbox)' : 'PACHCA_TOKEN is not set: delivering to the sandbox');
  }
  if (delivery.sandbox) io.err(`Sandbox: ${delivery.sandbox.origin} — messages at ${delivery.sandbox.origin}/__sandbox/messages`);

  const reload = async () => {
    try {
      const next = await loadConfigFor(g, io);
      config = next;
      daemon.reload(next.jobs);
      events.emit('config:reloaded', { file: next.file, jobs: next.jobs.length });
    } catch (err) {
      const message = err instanceof DigestError ? err.format() : String(err);
      events.emit('config:reload-failed', { file: config.file, error: message });
      logger.error({ error: message }, 'config reload failed: keeping the previous config');
    }
  };

  // Signal handlers go in before start(): catch-up can take a while, and without a handler a
  // SIGTERM there would kill the runs it waits for and a SIGHUP would terminate the process.
  let signalled = false;
  const onHup = () => void reload();
  const stopRequested = new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      if (signalled) return;
      signalled = true;
      logger.info({ signal: sig }, 'stopping: waiting for runs in flight');
      process.off('SIGHUP', onHup);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  process.on('SIGHUP', onHup);

  const starting = daemon.start();
  try {
    await Promise.race([starting, stopRequested]);
    if (!signalled) {
      logger.info({ jobs: daemon.nextRuns().map((n) => ({ job: n.job, next: n.at?.toISOString() ?? null })) }, 'daemon started');
      await stopRequested;
    }
    await intake.stop();
    await daemon.stop();
    // A catch-up interrupted by the signal launches nothing more once stopped; let it return before closing the store.
    await starting;
  } finally {
    process.off('SIGHUP', onHup);
    await health?.close();
    await budget.stop();
    await store.close();
    await delivery.close();
  }
  logger.info({}, 'stopped');
  return EXIT.OK;
}

/**
 * One pass: every enabled job's due slots (the same rule as the daemon, with no scheduler watching: the latest slot
 * is on time, older ones are catch-up), then exit. Jobs with nothing to run say why.
 */
export async function runDueCommand(flags: { sandbox?: boolean }, g: GlobalOptions, io: Io): Promise<number> {
  const { config, events, logger, delivery, store } = await openCommand(g, io, flags);
  const owner = ownerId();
  const run = runner(() => config, delivery.client, store, events, logger, owner);
  const now = new Date();
  let failed = 0;
  const budget = await shareTokenBudget(delivery, store, owner, logger);
  await budget.ready;
  try {
    const due: Array<Promise<void>> = [];
    for (const job of config.jobs) {
      if (!job.enabled) {
        io.err(`${job.name}: not run — disabled (enabled: false)`);
        continue;
      }
      const [last, seen] = await Promise.all([store.lastRun(job.name), store.getFlag(`first-seen:${job.name}`)]);
      const plan = dueSlots(
        { name: job.name, schedule: parseCron(job.schedule), timezone: job.timezone, catchUp: job.catchUp, startingDeadlineMs: job.startingDeadlineMs },
        { lastRun: last, firstSeen: seen ? new Date(seen) : null, watchingSince: null },
        now,
        { maxCatchUp: RUN_DUE_MAX_CATCH_UP, retryFailed: true },
      );
      const slots = plan.resume ? [plan.resume, ...plan.run] : plan.run;
      // A slot another process is running may be a fan-out it shares: this pass helps deliver it.
      if (slots.length === 0 && last?.status === 'running' && last.leaseUntil.getTime() > now.getTime() && shareable(job)) slots.push(last.slot);
      if (slots.length === 0) {
        io.err(`${job.name}: not due — ${plan.reasons.join('; ') || 'nothing to run'}`);
        continue;
      }
      due.push(
        (async () => {
          // One job's slots in order (oldest first), so `previous` chains; jobs run side by side.
          for (const slot of slots) {
            const o = await run(job, slot, { retryFailed: true });
            if (o.status === 'failed') failed++;
            io.err(`${job.name} ${slot.toISOString()}: ${o.status}${o.reason ? ` (${o.reason})` : ''}${o.error ? ` — ${o.error.message}` : ''}`);
          }
        })(),
      );
    }
    await Promise.all(due);
    if (due.length === 0) {
      const enabled = config.jobs.filter((j) => j.enabled).length;
      io.err(`run-due: nothing ran — none of the ${enabled} enabled job(s) had a due slot (reasons above)`);
    }
  } finally {
    await budget.stop();
    await store.close();
    await delivery.close();
  }
  return failed > 0 ? EXIT.JOB_FAILED : EXIT.OK;
}

/** catch_up: all in one `run-due` pass: a CronJob pod is not the place to send a hundred digests. */
const RUN_DUE_MAX_CATCH_UP = 10;

export async function sandboxCommand(flags: { port?: string; host?: string }, g: GlobalOptions, io: Io): Promise<number> {
  const port = flags.port === undefined ? 4010 : parsePort(flags.port, '--port');
  const { startSandbox } = await import('../../sandbox/index.js');

  // With --config the page gets a Jobs view whose "Run now" posts into this sandbox, recorded in the
  // sandbox ledger (`history` shows it): a preview must never mark a real slot as done.
  let config: LoadedConfig | undefined;
  const late: { sandbox?: Sandbox } = {};
  let closeRun = async () => {};
  let startEvents = () => {};
  let web: WebOptions | undefined;
  if (g.config) {
    const cfg = await loadConfigFor(g, io);
    config = cfg;
    const events = newEmitter();
    const logger = await makeLogger(g, io, []);
    const { attachLogging } = await import('../../observability/log.js');
    attachLogging(events, logger);
    const { PachcaClient } = await import('../../pachca/index.js');
    let client: PachcaClient | undefined;
    const getClient = () => (client ??= new PachcaClient(clientOptions(cfg, 'sandbox', late.sandbox!.baseUrl, events)));
    const store = await openStore(sandboxStateUrl(cfg), cfg);
    const owner = ownerId();
    const run = runner(() => cfg, getClient, store, events, logger, owner);
    web = { jobs: webJobsProvider(() => cfg, runNowFor(() => cfg, run)) };
    // Clicks on data buttons and links shared in the page become events; answer them as the daemon would.
    const { createRouter, startIntake, sandboxIntake } = await import('./events.js');
    const intakeDeps = { config: () => cfg, client: getClient, store, events, logger, owner };
    let intake: { stop: () => Promise<void> } | undefined;
    startEvents = () => {
      intake = startIntake(intakeDeps, createRouter(intakeDeps), sandboxIntake(cfg.events));
    };
    closeRun = async () => {
      await intake?.stop();
      await client?.close();
      await store.close();
    };
  }
  const bot = config ? await sandboxBot(config) : undefined;
  const sandbox = (late.sandbox = await listenOn(port, '--port', () =>
    startSandbox({ port, host: flags.host ?? '127.0.0.1', mode: 'preview', ...(bot ? { bot } : {}), ...(web ? { web } : {}) }),
  ).catch(async (err: unknown) => {
    await closeRun();
    throw err;
  }));
  startEvents();
  io.out(`Pachca sandbox: ${sandbox.origin}  (open it in a browser${config ? `; "Задания" runs the ${config.jobs.length} jobs of ${config.file}` : ''})`);
  io.out(`  API base URL: ${sandbox.baseUrl}   (export PACHCA_API_URL=${sandbox.baseUrl})`);
  io.out(`  messages as JSON: ${sandbox.origin}/__sandbox/messages`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await closeRun();
  await sandbox.close();
  return EXIT.OK;
}
