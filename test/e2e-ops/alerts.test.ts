/**
 * Failure alerts and the heartbeat, through `run-job` child processes sharing one ledger: one
 * alert when the streak reaches `after`, silence while it keeps failing, one recovery; the
 * heartbeat is pinged after each success only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { makeProject, runCli, type Project } from '../helpers/project.js';
import { CONFIG_HEAD, startRecorder, type Recorder } from './helpers.js';

const TOKEN = 'pd-alerts-token-Vb93kQ0x';
const PING_PATH = '/ping/3f0c9a4e-secret-uuid';
// A proxy-style error answer with markup that must not format the alert, and the bot's token
// echoed back (the client and the alert both mask it).
const ERROR_TEXT = `**Всё** сломалось _совсем_ [тут](https://evil.example) @all ${TOKEN}`;

const config = (heartbeat: string) => `
${CONFIG_HEAD}
alerts:
  chat_id: 104
  on: [failure, recovery]
  after: 2
heartbeat_url: ${heartbeat}${PING_PATH}
jobs:
  - name: sales_daily_report
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: static, data: { n: 1 } }
    template: n.hbs
    target: { chat_id: 101 }
  # A program that prints the token it was given and fails: its stderr is the alert's error text.
  - name: echo_token
    schedule: "0 9 * * *"
    source:
      type: command
      argv: [node, -e, "console.error('upstream said: token=' + process.env.PACHCA_TOKEN); process.exit(3)"]
      env_allow: [PACHCA_TOKEN]
      retries: 0
    template: n.hbs
    target: { chat_id: 101 }
    alerts: { chat_id: 104, after: 1, on: [failure] }
  # Recovery only: the failure streak is still tracked, so its end is announced.
  - name: recovery_only
    schedule: "0 9 * * *"
    source: { type: static, data: { n: 2 } }
    template: n.hbs
    target: { chat_id: 102 }
    alerts: { chat_id: 104, after: 1, on: [recovery] }
`;

describe('failure alerts and heartbeat (run-job, one ledger)', () => {
  let sandbox: Sandbox;
  let monitor: Recorder;
  let project: Project;

  beforeAll(async () => {
    sandbox = await startSandbox({ tokens: [TOKEN] });
    monitor = await startRecorder();
    project = makeProject({ 'jobs.config.yaml': config(monitor.url), 'templates/n.hbs': 'Продажи за {{date period.end "yyyy-MM-dd"}}: {{metrics.n}}\n' });
  });
  afterAll(async () => {
    await sandbox.close();
    await monitor.close();
    project.cleanup();
  });

  const alerts = () => sandbox.store.messages().filter((m) => m.chat_id === 104);
  const digests = () => sandbox.store.messages().filter((m) => m.chat_id === 101);
  // Each slot's digest differs (the date): after an ambiguous 500 the client looks for an
  // identical message posted moments ago, and the runs here follow each other within seconds.
  const runSlot = async (day: number, fail: boolean) => {
    if (fail) {
      sandbox.faults.add({ kind: 'status', status: 500, chatId: 101, method: 'POST', body: { errors: [{ key: 'content', message: ERROR_TEXT }] } });
    }
    const r = await runCli(['--log-format', 'json', 'run-job', 'sales_daily_report', '--slot', `2026-11-${day}T09:00:00+03:00`], {
      cwd: project.dir,
      env: { PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sandbox.baseUrl },
      timeoutMs: 15_000,
    });
    expect(r.code, r.stderr).toBe(fail ? 1 : 0);
    expect(r.stderr).toContain(fail ? '"msg":"run failed"' : '"msg":"run succeeded"');
    // The ping URL's path is its secret: logs show the origin at most.
    expect(r.stdout + r.stderr).not.toContain(PING_PATH);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    return r;
  };

  it('1st failure: no alert yet (after: 2), no heartbeat', async () => {
    await runSlot(20, true);
    expect(digests()).toHaveLength(0);
    expect(alerts()).toHaveLength(0);
    expect(monitor.hits).toHaveLength(0);
  });

  it('2nd failure in a row: exactly one Russian alert in chat 104, markup escaped, secret masked', async () => {
    await runSlot(21, true);
    expect(alerts()).toHaveLength(1);
    const text = alerts()[0]!.content;
    expect(text).toContain('🔴 Дайджест **sales\\_daily\\_report** не отправлен');
    expect(text).toContain('Запуск: 21 ноября 2026, 09:00 (Europe/Moscow)');
    expect(text).toMatch(/^Ошибка: `E_DELIVERY` — .*500/m);
    expect(text).toContain('\\*\\*Всё\\*\\* сломалось \\_совсем\\_ \\[тут\\](https://evil.example) ＠all');
    expect(text).toMatch(/^Что сделать: \S/m);
    expect(text).toContain('Следующее сообщение придёт, когда дайджест снова заработает.');
    // No raw markup survives: no unescaped ** around the error, no mention.
    expect(text).not.toContain('@all');
    expect(text).not.toMatch(/(?<!\\)\*\*Всё/);
    expect(text).not.toContain(TOKEN);
    expect(monitor.hits).toHaveLength(0);
  });

  it('3rd failure: still one alert (no repeat while it keeps failing)', async () => {
    await runSlot(22, true);
    expect(alerts()).toHaveLength(1);
    expect(monitor.hits).toHaveLength(0);
  });

  it('success: the digest goes out, exactly one recovery message, one heartbeat ping', async () => {
    await runSlot(23, false);
    expect(digests()).toHaveLength(1);
    expect(alerts()).toHaveLength(2);
    const text = alerts()[1]!.content;
    expect(text).toBe('🟢 Дайджест **sales\\_daily\\_report** снова работает\nУспешный запуск: 23 ноября 2026, 09:00 (Europe/Moscow)');
    expect(monitor.hits).toEqual([{ method: 'GET', path: PING_PATH }]);
  });

  it('next success: no more alerts, one more ping', async () => {
    await runSlot(24, false);
    expect(digests()).toHaveLength(2);
    expect(alerts()).toHaveLength(2);
    expect(monitor.hits).toHaveLength(2);
  });

  it('a single failure after recovery stays below `after`: no alert, no ping', async () => {
    await runSlot(25, true);
    expect(alerts()).toHaveLength(2);
    expect(monitor.hits).toHaveLength(2);
  });

  it('an error text that quotes the token reaches the alert chat masked (job-level alerts, after: 1)', async () => {
    const before = alerts().length;
    const r = await runCli(['--log-format', 'json', 'run-job', 'echo_token', '--slot', '2026-11-26T09:00:00+03:00'], {
      cwd: project.dir,
      env: { PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sandbox.baseUrl },
      timeoutMs: 15_000,
    });
    expect(r.code, r.stderr).toBe(1);
    expect(alerts()).toHaveLength(before + 1);
    const text = alerts().at(-1)!.content;
    expect(text).toContain('🔴 Дайджест **echo\\_token** не отправлен');
    expect(text).toMatch(/^Ошибка: `E_SOURCE` — .*upstream said: token=\\\[REDACTED\\\]/m);
    expect(text).not.toContain(TOKEN);
  });

  it('on: [recovery]: no failure alert, then exactly one recovery alert when the job works again', async () => {
    const before = alerts().length;
    const run = (day: number) =>
      runCli(['run-job', 'recovery_only', '--slot', `2026-11-${day}T09:00:00+03:00`], {
        cwd: project.dir,
        env: { PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sandbox.baseUrl },
        timeoutMs: 15_000,
      });
    sandbox.faults.add({ kind: 'status', status: 500, chatId: 102, method: 'POST', times: 1 });
    expect((await run(27)).code).toBe(1);
    expect(alerts()).toHaveLength(before);
    expect((await run(28)).code).toBe(0);
    expect(alerts()).toHaveLength(before + 1);
    expect(alerts().at(-1)!.content).toContain('🟢 Дайджест **recovery\\_only** снова работает');
    expect((await run(29)).code).toBe(0);
    expect(alerts()).toHaveLength(before + 1);
  });
});
