/**
 * Shared plumbing of the "exactly one digest per scheduled slot" end-to-end suite: the built CLI
 * as child processes (tracked so every test can kill what it started), temp projects, a ledger
 * opened from the test process to watch what the children recorded, and PostgreSQL schemas.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Sandbox } from '../../src/sandbox/index.js';
import type { StoredMessage } from '../../src/sandbox/index.js';
import { openStateStore } from '../../src/state/index.js';
import type { StateStore } from '../../src/state/types.js';
import { CLI, cleanEnv, makeProject, waitFor, type CliResult, type Project, type Spawned } from '../helpers/project.js';

export { waitFor };

/**
 * The built CLI (`npm run build`). PACHCA_DIGEST_TEST_CLI points at another build, e.g. a private
 * bundle while other people rebuild dist/ in the same checkout.
 */
export const CLI_PATH = process.env.PACHCA_DIGEST_TEST_CLI || CLI;

export function spawnCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): Spawned {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: options.cwd, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
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

export function project(config: string, templates: Record<string, string>): Project {
  const files: Record<string, string> = { 'jobs.config.yaml': config };
  for (const [name, text] of Object.entries(templates)) files[`templates/${name}`] = text;
  return makeProject(files);
}

/** The ledger the children write, opened from the test process (SQLite WAL or PostgreSQL). */
export async function openLedger(url: string, p: Project): Promise<StateStore> {
  return openStateStore(url, { baseDir: p.dir });
}
