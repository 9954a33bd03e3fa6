/**
 * What every command needs, built lazily: a command loads only the modules it uses
 * (`run-job` runs once per Kubernetes pod, so start-up time is part of every digest).
 */
import { hostname } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { createRequire } from 'node:module';
import { DigestError } from '../errors.js';
import { registerSecret } from '../observability/secrets.js';
import { Emitter, type DigestEmitter } from '../events.js';
import type { JobConfig, LoadedConfig } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { PachcaClient, PachcaClientOptions } from '../pachca/index.js';
import type { StateStore } from '../state/index.js';
import type { Sandbox, WebOptions } from '../sandbox/index.js';

export interface GlobalOptions {
  config?: string;
  logLevel?: string;
  logFormat?: 'json' | 'pretty' | 'auto';
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  env: process.env,
  cwd: process.cwd(),
};

export async function loadConfigFor(opts: GlobalOptions, io: Io, only?: string): Promise<LoadedConfig> {
  const { loadConfig } = await import('../config/index.js');
  const config = await loadConfig({ ...(opts.config ? { file: opts.config } : {}), cwd: io.cwd, env: io.env, ...(only ? { only } : {}) });
  // From here on every log line and printed error masks the token and other secret values.
  for (const s of config.secrets ?? []) registerSecret(s);
  registerSecret(config.pachca.token);
  return config;
}

export async function makeLogger(opts: GlobalOptions, io: Io, secrets: string[]): Promise<Logger> {
  const { createLogger } = await import('../observability/log.js');
  for (const s of secrets) if (s) registerSecret(s);
  const level = opts.logLevel ?? io.env.LOG_LEVEL ?? 'info';
  return createLogger({ level, format: opts.logFormat ?? 'auto', stream: process.stderr });
}

export function ownerId(): string {
  // node:crypto (with the streams it loads) costs a one-shot run more than this one call: loaded here, when used.
  const { randomBytes } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** The client settings from the config, for every client the CLI builds (one place, not three). */
export function clientOptions(config: LoadedConfig, token: string, baseUrl: string, events: DigestEmitter): PachcaClientOptions {
  return {
    token,
    baseUrl,
    rateLimits: config.pachca.rateLimits,
    retry: config.pachca.retry,
    timeouts: config.pachca.timeouts,
    maxMessageBytes: config.pachca.maxMessageBytes,
    events,
  };
}

export interface Delivery {
  /** Where messages go, for the user: a real Pachca, an external sandbox or the in-process one. */
  description: string;
  kind: 'pachca' | 'external-sandbox' | 'sandbox';
  client: () => PachcaClient;
  sandbox: Sandbox | null;
  /** Sandbox deliveries are recorded in the sandbox ledger (SANDBOX_LEDGER): never mark a real slot done. */
  stateUrl: string;
  close: () => Promise<void>;
}

/**
 * Runs delivered to a sandbox (no PACHCA_TOKEN, or --sandbox) go to a ledger of their own next to the
 * config: `history` shows them and a slot runs once there too, as it will in production, while the
 * real ledger never learns of them (a preview must not mark a real slot done).
 */
export const SANDBOX_LEDGER = '.pachca-digest/sandbox-state.db';

export function sandboxStateUrl(config: LoadedConfig): string {
  return `sqlite:${resolvePath(config.dir, SANDBOX_LEDGER)}`;
}

/** Whether this config, as the environment leaves it, delivers to a sandbox rather than Pachca. */
export function deliversToSandbox(config: LoadedConfig, flags: { sandbox?: boolean } = {}): boolean {
  return Boolean(flags.sandbox) || !config.pachca.token;
}

/**
 * No token → the built-in sandbox, so a newcomer sees a digest delivered without any setup.
 * A token with an explicit base URL → that server (a real Pachca, or a sandbox started separately).
 */
export async function resolveDelivery(
  config: LoadedConfig,
  events: DigestEmitter,
  flags: { sandbox?: boolean; sandboxPort?: number; web?: WebOptions },
): Promise<Delivery> {
  const { PachcaClient } = await import('../pachca/index.js');
  let client: PachcaClient | undefined;
  const makeClient = (baseUrl: string, token: string) => () =>
    (client ??= new PachcaClient(clientOptions(config, token, baseUrl, events)));
  const closeClient = async () => {
    await client?.close();
  };

  const useInProcess = flags.sandbox || (!config.pachca.token && !config.pachca.baseUrlExplicit);
  if (useInProcess) {
    const { startSandbox } = await import('../sandbox/index.js');
    // The default chats (101 «Общий», 102 «Разработка», 103 «Продажи», …) match the shipped examples;
    // any other chat id a config posts to is created on first use.
    const sandbox = await startSandbox({ port: flags.sandboxPort ?? 0, mode: 'preview', bot: await sandboxBot(config), ...(flags.web ? { web: flags.web } : {}) });
    return {
      description: `the built-in sandbox at ${sandbox.origin}`,
      kind: 'sandbox',
      client: makeClient(sandbox.baseUrl, 'sandbox'),
      sandbox,
      stateUrl: sandboxStateUrl(config),
      close: async () => {
        await closeClient();
        await sandbox.close();
      },
    };
  }
  const token = config.pachca.token || 'sandbox';
  return {
    description: config.pachca.token ? `Pachca at ${config.pachca.baseUrl}` : `the sandbox at ${config.pachca.baseUrl} (no PACHCA_TOKEN set)`,
    kind: config.pachca.token ? 'pachca' : 'external-sandbox',
    client: makeClient(config.pachca.baseUrl, token),
    sandbox: null,
    stateUrl: config.pachca.token ? config.state.url : sandboxStateUrl(config),
    close: closeClient,
  };
}

/** Built-in sources that never read Pachca: a preview of a job using only these needs no client. */
const NO_PACHCA_SOURCES = new Set(['static', 'file', 'http', 'prometheus', 'sql', 'command']);

/** The preview client for a job, loaded only when one of its sources may read Pachca. */
export async function previewClientFor(config: LoadedConfig, job: JobConfig, events: DigestEmitter): Promise<{ client: () => PachcaClient; close: () => Promise<void> }> {
  if (job.sources.every((s) => NO_PACHCA_SOURCES.has(s.type))) {
    return {
      client: () => {
        throw new DigestError('E_INTERNAL', 'a preview asked for a Pachca client its sources do not use');
      },
      close: async () => {},
    };
  }
  return previewClient(config, events);
}

/**
 * For `render` and `run-job --dry-run`: a client that can read (the `pachca` source needs it) but
 * refuses every write where all requests pass (`readOnly`), so a preview shows real data and
 * nothing — typed method, `request()`, a plugin — can send anything.
 */
export async function previewClient(config: LoadedConfig, events: DigestEmitter): Promise<{ client: () => PachcaClient; close: () => Promise<void> }> {
  const { PachcaClient } = await import('../pachca/index.js');
  let real: PachcaClient | undefined;
  const client = (): PachcaClient => {
    if (real) return real;
    if (!config.pachca.token && !config.pachca.baseUrlExplicit) {
      throw new DigestError('E_SOURCE', 'reading from Pachca needs a token, and PACHCA_TOKEN is not set', {
        hint: 'Set PACHCA_TOKEN to preview with real data, point PACHCA_API_URL at a running sandbox, or pass --metrics FILE.',
      });
    }
    real = new PachcaClient({ ...clientOptions(config, config.pachca.token || 'sandbox', config.pachca.baseUrl, events), readOnly: true });
    return real;
  };
  return { client, close: async () => void (await real?.close()) };
}

export async function openStore(url: string, config: LoadedConfig): Promise<StateStore> {
  const { openStateStore } = await import('../state/index.js');
  return openStateStore(url, { baseDir: config.dir });
}

export function findJob(config: LoadedConfig, name: string) {
  const job = config.jobs.find((j) => j.name === name);
  if (!job) {
    const names = [...config.jobs.map((j) => j.name), ...(config.skippedJobs ?? [])];
    throw new DigestError('E_USAGE', `no job named "${name}" in ${config.file}`, {
      hint: names.length ? `Jobs in this config: ${names.join(', ')}.` : 'The config has no jobs.',
    });
  }
  return job;
}

export function newEmitter(): DigestEmitter {
  return new Emitter();
}

/** The sandbox's bot side for this config: it sends `link_shared` for the domains the `unfurl:` rules watch. */
export async function sandboxBot(config: LoadedConfig): Promise<{ unfurlDomains: string[] }> {
  if (!config.unfurl?.length) return { unfurlDomains: [] };
  const { unfurlDomains } = await import('../unfurl/index.js');
  return { unfurlDomains: unfurlDomains(config.unfurl) };
}

/**
 * Processes of one token on one shared ledger split its ~50 req/s among those sending (see
 * pachca/budget-share.ts). The in-process sandbox is private to this process: nothing to share.
 */
export async function shareTokenBudget(delivery: Delivery, store: StateStore, owner: string, logger: Logger): Promise<{ ready: Promise<void>; stop(): Promise<void> }> {
  if (delivery.kind === 'sandbox') return { ready: Promise.resolve(), stop: async () => {} };
  const { startBudgetShare } = await import('../pachca/index.js');
  const client = delivery.client();
  let warned = false;
  return startBudgetShare({
    limiter: client.limiter,
    beat: (state, ttlMs) => store.replicaBeat(client.budgetKey, owner, state, new Date(), ttlMs),
    onShare: (share, counts) => logger.info({ share: Number(share.toFixed(3)), ...counts }, 'token budget: this process takes its share of the token-wide limit'),
    onError: (err) => {
      if (warned) return;
      warned = true;
      logger.warn({ err: (err as Error).message }, 'token budget heartbeat failed; keeping the last share until the ledger answers');
    },
  });
}

/**
 * What a one-pass command (`events`, `run-due`) sets up before its work: the config, logging with
 * its secrets scrubbed, where messages go (Pachca or a sandbox) and the ledger that goes with it.
 */
export async function openCommand(
  g: GlobalOptions,
  io: Io,
  flags: { sandbox?: boolean },
): Promise<{ config: LoadedConfig; events: DigestEmitter; logger: Logger; delivery: Delivery; store: StateStore }> {
  const config = await loadConfigFor(g, io);
  const events = newEmitter();
  const logger = await makeLogger(g, io, [config.pachca.token]);
  const { attachLogging } = await import('../observability/log.js');
  attachLogging(events, logger);
  const delivery = await resolveDelivery(config, events, { sandbox: flags.sandbox ?? false });
  const store = await openStore(delivery.stateUrl, config);
  return { config, events, logger, delivery, store };
}
