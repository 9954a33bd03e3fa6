/**
 * Runs cannot hang, through the built CLI: a `command` whose child keeps stdout open, a program
 * that never exits (its process group is killed at the timeout), and a template looping over large
 * data in a running daemon (the run fails near its 1 s timeout while /healthz keeps answering).
 */
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { makeProject, runCli, spawnCli, waitFor, type Project, type Spawned } from '../helpers/project.js';
import { gone } from '../helpers/processes.js';
import { CONFIG_HEAD, freePort, get, jsonLines } from './helpers.js';

const TOKEN = 'pd-bounded-token-Qw83Lk';

const commandJob = (script: string, timeout: string) => `
${CONFIG_HEAD}
jobs:
  - name: report
    schedule: "0 9 * * *"
    timeout: ${timeout}
    source: { type: command, argv: ["./${script}"] }
    template: n.hbs
    target: { chat_id: 101 }
`;

describe('bounded runs through the CLI', () => {
  let sandbox: Sandbox;
  const projects: Project[] = [];
  let daemon: Spawned | undefined;
  const env = () => ({ PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sandbox.baseUrl });

  beforeAll(async () => {
    sandbox = await startSandbox({ tokens: [TOKEN] });
  });
  afterEach(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    daemon = undefined;
    for (const p of projects.splice(0)) p.cleanup();
    sandbox.reset();
  });
  afterAll(async () => {
    await sandbox.close();
  });

  function project(files: Record<string, string>): Project {
    const p = makeProject(files);
    projects.push(p);
    return p;
  }

  it('a command that prints JSON and leaves `sleep 60` holding stdout: the run ends well within its timeout, the child is killed', async () => {
    const p = project({
      'jobs.config.yaml': commandJob('orphan.sh', '20s'),
      'templates/n.hbs': 'деплоев: {{metrics.deploys}}\n',
      'orphan.sh': '#!/bin/sh\nsleep 60 &\necho $! > orphan.pid\necho \'{"deploys": 7}\'\n',
    });
    chmodSync(join(p.dir, 'orphan.sh'), 0o755);
    const started = Date.now();
    const r = await runCli(['run-job', 'report'], { cwd: p.dir, env: env(), timeoutMs: 60_000 });
    const took = Date.now() - started;
    expect(r.code, r.stderr).toBe(0);
    expect(took).toBeLessThan(20_000);
    expect(sandbox.store.messages(101).map((m) => m.content)).toEqual(['деплоев: 7']);
    const orphan = Number(readFileSync(join(p.dir, 'orphan.pid'), 'utf8'));
    expect(orphan).toBeGreaterThan(0);
    expect(await gone(orphan)).toBe(true);
  }, 90_000);

  it('a command that never exits: the run fails at its 2 s timeout and its whole process group is gone', async () => {
    const p = project({
      'jobs.config.yaml': commandJob('hang.sh', '2s'),
      'templates/n.hbs': 'деплоев: {{metrics.deploys}}\n',
      // The program and its child both ignore SIGTERM: only the SIGKILL of the group ends them.
      'hang.sh': "#!/bin/sh\ntrap '' TERM\nsleep 60 &\necho $! > child.pid\necho $$ > leader.pid\nwait\n",
    });
    chmodSync(join(p.dir, 'hang.sh'), 0o755);
    const started = Date.now();
    const r = await runCli(['run-job', 'report'], { cwd: p.dir, env: env(), timeoutMs: 60_000 });
    const took = Date.now() - started;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E_TIMEOUT|exceeded its timeout/);
    // 2 s timeout + 2 s SIGTERM→SIGKILL grace + start-up; generous for a loaded machine.
    expect(took).toBeLessThan(25_000);
    expect(sandbox.store.messages(101)).toHaveLength(0);
    for (const f of ['leader.pid', 'child.pid']) {
      expect(existsSync(join(p.dir, f))).toBe(true);
      expect(await gone(Number(readFileSync(join(p.dir, f), 'utf8'))), f).toBe(true);
    }
  }, 90_000);

  it('a template looping over large data with `timeout: 1s` fails in about a second while /healthz keeps answering', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => i);
    const p = project({
      'jobs.config.yaml': `
${CONFIG_HEAD}
jobs:
  - name: heavy
    schedule: "*/4 * * * * *"
    timeout: 1s
    source: { type: static, data: { rows: [${rows.join(', ')}] } }
    template: heavy.hbs
    target: { chat_id: 101 }
`,
      // 10^9 passes: without a render budget this blocks the daemon for many minutes.
      'templates/heavy.hbs': '{{#each metrics.rows}}{{#each @root.metrics.rows}}{{#each @root.metrics.rows}}{{this}}{{/each}}{{/each}}{{/each}}\n',
    });
    const port = await freePort();
    daemon = spawnCli(['--log-format', 'json', 'run', '--http-port', String(port), '--http-host', '127.0.0.1'], { cwd: p.dir, env: env() });
    const d = daemon;
    const diag = () => `stderr:\n${d.stderr().slice(-3000)}`;
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await get(`${base}/healthz`))?.status === 200, { timeoutMs: 20_000, what: `/healthz (${diag()})` });

    // Probe continuously until two heavy runs have failed, then a little longer.
    const latencies: number[] = [];
    const failures = () => jsonLines(d.stderr()).filter((l) => l.msg === 'run failed' && l.job === 'heavy');
    const until = Date.now() + 40_000;
    let extra = 0;
    while (Date.now() < until && (failures().length < 2 || extra++ < 5)) {
      const t0 = Date.now();
      const r = await get(`${base}/healthz`);
      latencies.push(r?.status === 200 ? Date.now() - t0 : Number.POSITIVE_INFINITY);
      await new Promise((res) => setTimeout(res, 100));
    }
    const failed = failures();
    expect(failed.length, diag()).toBeGreaterThanOrEqual(2);
    for (const f of failed) {
      expect(f.error.code).toBe('E_TEMPLATE');
      // A quiet machine can fill the render's 5,000,000-character cap before the 1 s budget runs out:
      // either bound stops the run, and neither lets it run past the timeout.
      expect(f.error.message).toMatch(/ran past the job's timeout|produced more than 5,000,000 characters/);
      if (/timeout/.test(f.error.message)) expect(f.durationMs).toBeGreaterThanOrEqual(900);
      expect(f.durationMs).toBeLessThan(3_500);
    }
    // A render blocks the loop for at most the job's 1 s: every probe answered (get() gives up at 3 s).
    expect(latencies.every(Number.isFinite), `latencies: ${latencies.join(',')}`).toBe(true);
    expect(Math.max(...latencies)).toBeLessThan(3_000);
    expect(sandbox.store.messages(101)).toHaveLength(0);
  }, 120_000);
});
