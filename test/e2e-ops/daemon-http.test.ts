/**
 * `run --http-port`: the daemon's probes and Prometheus metrics while it delivers a seconds-field
 * job to a real sandbox, then a clean SIGTERM that closes the port.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { makeProject, spawnCli, waitFor, type Project, type Spawned } from '../helpers/project.js';
import { CONFIG_HEAD, freePort, get, portOpen, sample } from './helpers.js';

const TOKEN = 'pd-daemon-token-Lm27Qx9w';

const CONFIG = `
${CONFIG_HEAD}
jobs:
  - name: every-second
    schedule: "* * * * * *"
    source: { type: static, data: { n: 1 } }
    template: n.hbs
    target: { chat_id: 101 }
  # Posts to a chat the sandbox does not have: a 404 per run, a failed run.
  - name: lost-chat
    schedule: "*/2 * * * * *"
    source: { type: static, data: { n: 2 } }
    template: n.hbs
    target: { chat_id: 999 }
  - name: parked
    enabled: false
    schedule: "0 9 * * *"
    source: { type: static, data: { n: 3 } }
    template: n.hbs
    target: { chat_id: 101 }
`;

describe('run --http-port: /healthz, /readyz, /metrics, SIGTERM', () => {
  let sandbox: Sandbox;
  let project: Project;
  let daemon: Spawned | undefined;

  beforeAll(async () => {
    sandbox = await startSandbox({ tokens: [TOKEN] });
    project = makeProject({ 'jobs.config.yaml': CONFIG, 'templates/n.hbs': 'n = {{metrics.n}}, {{date period.end "HH:mm:ss"}}\n' });
  });
  afterEach(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    daemon = undefined;
  });
  afterAll(async () => {
    await sandbox.close();
    project.cleanup();
  });

  it('serves probes and metrics while ticking, and exits 0 on SIGTERM with the port closed', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const started = Date.now();
    daemon = spawnCli(['--log-format', 'json', 'run', '--http-port', String(port), '--http-host', '127.0.0.1'], {
      cwd: project.dir,
      env: { PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sandbox.baseUrl },
    });
    const d = daemon;
    const diag = () => `stderr:\n${d.stderr().slice(-3000)}`;

    const health = await waitFor(async () => {
      const r = await get(`${base}/healthz`);
      return r?.status === 200 ? r : null;
    }, { timeoutMs: 10_000, what: `/healthz 200 (${diag()})` });
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok' });

    const ready = await get(`${base}/readyz`);
    expect(ready?.status, diag()).toBe(200);
    expect(JSON.parse(ready!.text)).toMatchObject({ status: 'ok' });

    // Wait until both jobs have finished at least one run, then read one consistent scrape.
    const metrics = await waitFor(async () => {
      const r = await get(`${base}/metrics`);
      if (r?.status !== 200) return null;
      const ok = sample(r.text, 'pachca_digest_runs_total', { job: 'every-second', status: 'succeeded' }) ?? 0;
      const failed = sample(r.text, 'pachca_digest_runs_total', { job: 'lost-chat', status: 'failed' }) ?? 0;
      return ok >= 1 && failed >= 1 ? r.text : null;
    }, { timeoutMs: 10_000, what: `a succeeded and a failed run in /metrics (${diag()})` });

    // Pachca requests by class, method and status (never per chat: bounded label values): the 201s of
    // the working job, the 404s of the other.
    expect(sample(metrics, 'pachca_digest_pachca_requests_total', { class: 'messageWrite', method: 'POST', status: '201' })).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, 'pachca_digest_pachca_requests_total', { class: 'messageWrite', method: 'POST', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(metrics).not.toMatch(/chat:101|chat:999/);
    // Series start at 0 for every configured job, so absence alerts work before a first run.
    expect(sample(metrics, 'pachca_digest_runs_total', { job: 'parked', status: 'succeeded' })).toBe(0);
    expect(sample(metrics, 'pachca_digest_config_jobs')).toBe(3);

    const now = Date.now() / 1000;
    const lastSuccess = sample(metrics, 'pachca_digest_last_success_timestamp_seconds', { job: 'every-second' })!;
    expect(lastSuccess).toBeGreaterThanOrEqual(started / 1000 - 1);
    expect(lastSuccess).toBeLessThanOrEqual(now + 1);
    expect(sample(metrics, 'pachca_digest_last_success_timestamp_seconds', { job: 'lost-chat' })).toBeNull();
    expect(sample(metrics, 'pachca_digest_last_failure_timestamp_seconds', { job: 'lost-chat' })).toBeGreaterThanOrEqual(started / 1000 - 1);
    const next = sample(metrics, 'pachca_digest_next_run_timestamp_seconds', { job: 'every-second' })!;
    expect(next).toBeGreaterThan(lastSuccess - 1);
    expect(next).toBeLessThanOrEqual(now + 2);
    expect(Number.isInteger(next)).toBe(true);
    // A disabled job has no next run.
    expect(sample(metrics, 'pachca_digest_next_run_timestamp_seconds', { job: 'parked' })).toBeNull();
    expect(sample(metrics, 'pachca_digest_scheduler_last_tick_timestamp_seconds')).toBeGreaterThanOrEqual(started / 1000 - 1);
    expect(metrics).toMatch(/^# TYPE pachca_digest_run_duration_seconds histogram$/m);
    expect(metrics).not.toContain(TOKEN);

    // What the sandbox saw agrees with the counters' story.
    expect(sandbox.store.messages().filter((m) => m.chat_id === 101).length).toBeGreaterThanOrEqual(1);

    d.child.kill('SIGTERM');
    const exit = await Promise.race([d.exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(exit, `daemon did not stop on SIGTERM; ${diag()}`).toEqual({ code: 0, signal: null });
    expect(await portOpen(port)).toBe(false);
    expect(d.stderr()).toContain('"msg":"stopped"');
    expect(d.stdout() + d.stderr()).not.toContain(TOKEN);
  });

  it('a port already in use is a usage error (exit 2) with a hint', async () => {
    const port = sandbox.port;
    const r = spawnCli(['run', '--http-port', String(port), '--http-host', '127.0.0.1'], {
      cwd: project.dir,
      env: { PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sandbox.baseUrl },
    });
    daemon = r;
    const exit = await Promise.race([r.exited, new Promise<null>((res) => setTimeout(() => res(null), 10_000))]);
    expect(exit, r.stderr()).toEqual({ code: 2, signal: null });
    expect(r.stderr()).toMatch(/port \d+ is in use/);
    expect(r.stderr()).toMatch(/--http-port/);
  });
});
