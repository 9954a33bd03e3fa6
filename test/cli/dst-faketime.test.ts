/**
 * DST end to end: the real daemon process with its clock set by libfaketime (Debian `faketime`),
 * delivering to a real sandbox. Spring forward in Berlin runs the 02:30 slot once at 03:00 CEST;
 * fall back in New York does not run the 01:30 slot again in the repeated hour.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { CLI, cleanEnv, makeProject, waitFor, type Project } from '../helpers/project.js';

/** libfaketime, preloaded into the node process itself (the `faketime` wrapper would stand between it and signals). */
function findLibfaketime(): string | undefined {
  for (const dir of ['/usr/lib', '/usr/lib64']) {
    if (!existsSync(dir)) continue;
    for (const arch of readdirSync(dir)) {
      const lib = `${dir}/${arch}/faketime/libfaketimeMT.so.1`;
      if (existsSync(lib)) return lib;
    }
  }
  return undefined;
}
const LIBFAKETIME = findLibfaketime();
const have = LIBFAKETIME !== undefined;
if (!have) console.warn('dst-faketime: skipped — libfaketime is missing (apt-get install faketime; CI installs it)');

let sandbox: Sandbox;
let project: Project | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ tokens: ['dst-token'], rateLimits: false });
});
afterAll(async () => {
  await sandbox.close();
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  project?.cleanup();
  sandbox.reset();
});

/** The daemon as a child process whose clock starts at `at` (UTC) and then runs normally. */
function daemonAt(at: string): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, 'run', '--log-format', 'json'], {
    cwd: project!.dir,
    // `@…`: the clock starts there and then runs at normal speed.
    env: cleanEnv({ PACHCA_TOKEN: 'dst-token', PACHCA_API_URL: sandbox.baseUrl, TZ: 'UTC', LD_PRELOAD: LIBFAKETIME, FAKETIME: `@${at}` }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, stderr: () => stderr, exited };
}

function setup(schedule: string, timezone: string): void {
  project = makeProject({
    'jobs.config.yaml': `version: 1\nstate:\n  url: sqlite:state.db\njobs:\n  - name: night\n    schedule: "${schedule}"\n    timezone: ${timezone}\n    source: { type: static, data: { v: 1 } }\n    template: t.hbs\n    target: { chat_id: 101 }\n`,
    'templates/t.hbs': 'slot {{slot}}\n',
  });
}

describe.skipIf(!have)('DST in a real daemon process (faketime)', () => {
  it('Europe/Berlin spring forward: the 02:30 slot runs once, at 03:00 CEST (01:00 UTC)', async () => {
    setup('30 2 * * *', 'Europe/Berlin');
    // 01:59:56 CET, four seconds before the clocks jump to 03:00 CEST.
    const d = daemonAt('2026-03-29 00:59:56');
    await waitFor(() => sandbox.store.messages().length > 0, { timeoutMs: 20_000, what: `the 02:30 slot to run (${d.stderr().slice(-500)})` });
    expect(sandbox.store.messages().map((m) => m.content)).toEqual(['slot 2026-03-29T01:00:00.000Z']);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });

  it('America/New_York fall back: 01:30 runs in the first pass and not again in the repeated hour', async () => {
    setup('30 1 * * *', 'America/New_York');
    // 01:29:57 EDT: the slot runs at 05:30 UTC.
    const first = daemonAt('2026-11-01 05:29:57');
    await waitFor(() => sandbox.store.messages().length > 0, { timeoutMs: 20_000, what: `the 01:30 EDT slot (${first.stderr().slice(-500)})` });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // 01:29:57 EST, the same wall time an hour later: nothing may run at 01:30 again.
    const second = daemonAt('2026-11-01 06:29:57');
    await waitFor(() => second.stderr().includes('daemon started'), { timeoutMs: 20_000, what: 'the second daemon to start' });
    const started = Date.now();
    await waitFor(() => Date.now() - started > 6_000, { timeoutMs: 10_000, intervalMs: 200, what: 'past the repeated 01:30' });
    expect(sandbox.store.messages().map((m) => m.content)).toEqual(['slot 2026-11-01T05:30:00.000Z']);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
