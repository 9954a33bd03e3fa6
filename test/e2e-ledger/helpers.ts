/**
 * Shared plumbing of the "exactly one digest per scheduled slot" end-to-end suite: the built CLI
 * as child processes (tracked so every test can kill what it started), temp projects, a ledger
 * opened from the test process to watch what the children recorded, and PostgreSQL schemas;
 * `ledgerSuite` ties them to the hooks of a `describe`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions, type StoredMessage } from '../../src/sandbox/index.js';
import { openStateStore } from '../../src/state/index.js';
import type { StateStore } from '../../src/state/types.js';
import { CLI, makeProject, spawnCli as spawnBuiltCli, waitFor, type CliResult, type Project, type Spawned } from '../helpers/project.js';

export { waitFor };

/**
 * The built CLI (`npm run build`). PACHCA_DIGEST_TEST_CLI points at another build, e.g. a private
 * bundle while other people rebuild dist/ in the same checkout.
 */
export const CLI_PATH = process.env.PACHCA_DIGEST_TEST_CLI || CLI;

export function spawnCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): Spawned {
  return spawnBuiltCli(args, { ...options, cli: CLI_PATH });
}

/** One CLI command to completion (SIGKILL after `timeoutMs`). */
export async function runCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number }): Promise<CliResult> {
  const s = spawnCli(args, options);
  const timer = setTimeout(() => s.child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  try {
    const { code, signal } = await s.exited;
    return { code, signal, stdout: s.stdout(), stderr: s.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

export const TOKEN = 'e2e-ledger-token';
/** Set by CI (and by `export PACHCA_DIGEST_TEST_PG="$(scripts/start-postgres.sh)"`). */
export const PG = process.env.PACHCA_DIGEST_TEST_PG;

export function cliEnv(sandbox: Sandbox, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sandbox.baseUrl, ...extra };
}

/** A fresh schema name per test, so parallel files and re-runs never share rows. */
export function pgSchema(prefix: string): string {
  return `e2e_${prefix}_${randomBytes(5).toString('hex')}`;
}

export function pgUrl(schema: string): string {
  if (!PG) throw new Error('PACHCA_DIGEST_TEST_PG is not set');
  return `${PG}${PG.includes('?') ? '&' : '?'}schema=${schema}`;
}

export async function dropPgSchema(schema: string): Promise<void> {
  if (!PG) return;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Child processes of one test: started through here, killed (SIGKILL) and awaited by `killAll`. */
export class Children {
  readonly #all: Spawned[] = [];

  spawn(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): Spawned {
    const s = spawnCli(args, options);
    this.#all.push(s);
    return s;
  }

  async killAll(): Promise<void> {
    const live = this.#all.splice(0);
    for (const s of live) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    }
    await Promise.all(live.map((s) => s.exited));
  }
}

/** JSON log lines of a child started with `--log-format json`. */
export function logLines(s: Spawned): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of s.stderr().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut in the middle of a write: the next poll sees it whole.
    }
  }
  return out;
}

export function logged(s: Spawned, msg: string | RegExp): Array<Record<string, unknown>> {
  return logLines(s).filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))));
}

/** Waits until the daemon logged "daemon started" (its signal handlers are installed by then). */
export async function waitStarted(s: Spawned, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    () => {
      if (s.child.exitCode !== null) throw new Error(`daemon exited early (${s.child.exitCode}):\n${s.stderr()}`);
      return logged(s, 'daemon started').length > 0;
    },
    { timeoutMs, what: 'the daemon to start' },
  );
}

/** SIGTERM, then the exit status (SIGKILL after `timeoutMs` so a hung child cannot hang the suite). */
export async function terminate(s: Spawned, timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), timeoutMs);
  try {
    return await s.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Templates print `slot=<ISO>` so the messages of each slot can be counted. */
export const SLOT_RE = /slot=(\S+)/;

export function slotOf(m: StoredMessage): string | null {
  return SLOT_RE.exec(m.content)?.[1] ?? null;
}

/** slot → how many live messages carry it. */
export function countBySlot(messages: StoredMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) {
    if (m.deleted_at !== null) continue;
    const s = slotOf(m);
    if (s) counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return counts;
}

/**
 * The personal-digest job of the shared fan-out tests: one DM per row of people.csv (`name,user_id`),
 * a 3 s lease so a killed process is taken over quickly, and a 25 h starting deadline so every slot of
 * the day may still start. `job` adds lines to the job (e.g. `catch_up`).
 */
export function dmFanoutConfig(schedule: string, job: string[] = []): string {
  return `
version: 1
state:
  url: sqlite:state/unused.db
  lease: 3s
jobs:
  - name: personal
    schedule: "${schedule}"
    timezone: UTC
    starting_deadline: 25h
${job.map((l) => `    ${l}\n`).join('')}    source: { type: file, path: people.csv }
    for_each: metrics.rows
    template: t.hbs
    target: { user_id: "{{item.user_id}}" }
`;
}

/** people.csv of `dmFanoutConfig`: `users` rows, user ids from `firstUser` on. */
export function peopleCsv(users: number, firstUser: number): string {
  return 'name,user_id\n' + Array.from({ length: users }, (_, i) => `Сотрудник ${i},${firstUser + i}\n`).join('');
}

export function project(config: string, templates: Record<string, string>): Project {
  const files: Record<string, string> = { 'jobs.config.yaml': config };
  for (const [name, text] of Object.entries(templates)) files[`templates/${name}`] = text;
  return makeProject(files);
}

/** The ledger the children write, opened from the test process (SQLite WAL or PostgreSQL). */
export async function openLedger(url: string, p: Project): Promise<StateStore> {
  return openStateStore(url, { baseDir: p.dir });
}

export type LedgerStore = 'sqlite' | 'postgres';

/** Both ledgers a crash test runs against; the PostgreSQL one only with PACHCA_DIGEST_TEST_PG (a warning names the file otherwise). */
export function ledgerStores(file: string): Array<{ name: LedgerStore; enabled: boolean }> {
  if (!PG) console.warn(`${file}: PostgreSQL variant SKIPPED — PACHCA_DIGEST_TEST_PG is not set`);
  return [
    { name: 'sqlite', enabled: true },
    { name: 'postgres', enabled: Boolean(PG) },
  ];
}

/** What one `describe` of this suite shares; everything a test made through it is undone after that test. */
export interface LedgerSuite {
  /** One sandbox for the whole `describe`, reset after each test. */
  readonly sandbox: Sandbox;
  /** Child processes, SIGKILLed after each test. */
  readonly children: Children;
  /** The project the running test made last (throws before `project`). */
  readonly p: Project;
  /** A temp project (see `project`), removed after the test. */
  project(config: string, templates: Record<string, string>): Project;
  /** A fresh PostgreSQL schema name, the schema dropped after the test. */
  pgSchema(prefix: string): string;
  /**
   * The ledger of a `ledgerStores` variant for the current project, opened from the test process and
   * closed after the test; `stateEnv` points the children at the same one (SQLite: the config's own
   * sqlite:state/ledger.db; PostgreSQL: a fresh schema).
   */
  openStore(store: LedgerStore, schemaPrefix: string): Promise<{ ledger: StateStore; stateEnv: Record<string, string> }>;
}

/**
 * Registers the hooks of a `describe` (call it in the `describe` body): the sandbox (strict, this
 * suite's token, `sandboxOptions` besides) is started before its tests and closed after them; after each test the children are killed, ledgers closed,
 * schemas dropped, projects removed and the sandbox reset, in that order.
 */
export function ledgerSuite(sandboxOptions: Omit<SandboxOptions, 'tokens'> = {}): LedgerSuite {
  let sandbox: Sandbox | undefined;
  const children = new Children();
  const projects: Project[] = [];
  const ledgers: StateStore[] = [];
  const schemas: string[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox({ ...sandboxOptions, tokens: [TOKEN] });
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  afterEach(async () => {
    await children.killAll();
    for (const ledger of ledgers.splice(0)) await ledger.close();
    for (const schema of schemas.splice(0)) await dropPgSchema(schema);
    for (const p of projects.splice(0)) p.cleanup();
    sandbox?.reset();
  });

  const suite: LedgerSuite = {
    get sandbox() {
      if (!sandbox) throw new Error('the sandbox starts in beforeAll: use it inside a test');
      return sandbox;
    },
    children,
    get p() {
      const p = projects.at(-1);
      if (!p) throw new Error('this test has no project yet: call project() first');
      return p;
    },
    project(config, templates) {
      const p = project(config, templates);
      projects.push(p);
      return p;
    },
    pgSchema(prefix) {
      const schema = pgSchema(prefix);
      schemas.push(schema);
      return schema;
    },
    async openStore(store, schemaPrefix) {
      let url = 'sqlite:state/ledger.db';
      let stateEnv: Record<string, string> = {};
      if (store === 'postgres') {
        url = pgUrl(suite.pgSchema(schemaPrefix));
        stateEnv = { PACHCA_DIGEST_STATE: url };
      }
      const ledger = await openLedger(url, suite.p);
      ledgers.push(ledger);
      return { ledger, stateEnv };
    },
  };
  return suite;
}
