/**
 * `run-job` end to end: the built CLI as a child process, delivering to a real sandbox server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { makeProject, runCli, type Project } from '../helpers/project.js';
import { FIXED_SLOT_RETENTION } from '../helpers/retention.js';

const CONFIG = `
version: 1
state:
  url: sqlite:state/ledger.db
${FIXED_SLOT_RETENTION}
jobs:
  - name: sales
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source:
      type: static
      data:
        revenue: 1200
        region: Москва
    template: sales.hbs
    targets:
      - chat_id: 101
        display_name: Отчёты
        link_preview: false
        buttons:
          - text: Дашборд {{metrics.region}}
            url: https://bi.example.com/sales?region={{metrics.region}}
      - user_id: 3
  - name: empty
    schedule: "0 9 * * *"
    source: { type: static, data: { count: 0 } }
    template: empty.hbs
    target: { chat_id: 101 }
  - name: nowhere
    schedule: "0 9 * * *"
    source: { type: static, data: { n: 1 } }
    template: n.hbs
    target: { chat_id: 999999 }
`;

describe('run-job against the sandbox', () => {
  let sandbox: Sandbox;
  let project: Project;
  const env = () => ({ PACHCA_TOKEN: 'test-token-123', PACHCA_API_URL: sandbox.baseUrl });

  beforeAll(async () => {
    sandbox = await startSandbox({ tokens: ['test-token-123'] });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => {
    sandbox.reset();
    project?.cleanup();
    project = makeProject({
      'jobs.config.yaml': CONFIG,
      'templates/sales.hbs': '**Выручка {{metrics.region}}:** {{metrics.revenue}} ₽\n',
      'templates/n.hbs': 'n = {{metrics.n}}\n',
      'templates/empty.hbs': '{{#if metrics.count}}Есть {{metrics.count}}{{/if}}\n',
    });
  });

  it('posts the rendered message to every target with the right entity type, then exits 0', async () => {
    const r = await runCli(['run-job', 'sales', '--slot', '2026-11-24T09:00:00+03:00'], { cwd: project.dir, env: env() });
    expect(r.stderr).toContain('succeeded');
    expect(r.code).toBe(0);
    const msgs = sandbox.store.messages();
    expect(msgs).toHaveLength(2);
    const chatMsg = msgs.find((m) => m.entity_type === 'discussion')!;
    expect(chatMsg.chat_id).toBe(101);
    expect(chatMsg.content).toBe('**Выручка Москва:** 1200 ₽');
    expect(chatMsg.display_name).toBe('Отчёты');
    expect(chatMsg.link_preview).toBe(false);
    expect(chatMsg.buttons).toEqual([[{ text: 'Дашборд Москва', url: 'https://bi.example.com/sales?region=Москва' }]]);
    const dm = msgs.find((m) => m.entity_type === 'user')!;
    expect(dm.entity_id).toBe(3);
    expect(r.stdout).toMatch(/message \d+/);
  });

  it('runs a slot once: a second run-job for the same slot posts nothing, --force posts again', async () => {
    const slot = ['--slot', '2026-11-24T09:00:00+03:00'];
    expect((await runCli(['run-job', 'sales', ...slot], { cwd: project.dir, env: env() })).code).toBe(0);
    const again = await runCli(['run-job', 'sales', ...slot], { cwd: project.dir, env: env() });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/slot 2026-11-24T06:00:00.000Z already succeeded at \S+Z; nothing to do/);
    expect(again.stderr).toMatch(/slot already done \(run 1, succeeded at \S+Z\)/);
    expect(again.stderr).not.toContain('claimed by another process');
    expect(sandbox.store.messages()).toHaveLength(2);
    const forced = await runCli(['run-job', 'sales', ...slot, '--force'], { cwd: project.dir, env: env() });
    expect(forced.code).toBe(0);
    expect(sandbox.store.messages()).toHaveLength(4);
  });

  it('--slot off the schedule is said, with the nearest real slots, and still runs', async () => {
    const r = await runCli(['run-job', 'sales', '--slot', '2026-11-24T09:17:00+03:00'], { cwd: project.dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: --slot 2026-11-24T06:17:00.000Z is not on sales's schedule "[^"]+" \(Europe\/Moscow\); nearest slots: 2026-11-24 09:00 \+03:00 \(2026-11-24T06:00:00.000Z\), /);
    const onSchedule = await runCli(['run-job', 'sales', '--slot', '2026-11-24T09:00:00+03:00', '--dry-run'], { cwd: project.dir, env: env() });
    expect(onSchedule.stderr).not.toContain('is not on');
  });

  it('--dry-run prints the messages and posts nothing', async () => {
    const r = await runCli(['run-job', 'sales', '--dry-run'], { cwd: project.dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('**Выручка Москва:** 1200 ₽');
    expect(r.stdout).toContain('chat_id 101');
    expect(r.stdout).toContain('user_id 3');
    expect(sandbox.store.messages()).toHaveLength(0);
    expect(sandbox.requests()).toHaveLength(0);
  });

  it('an empty render is skipped: nothing posted, exit 0', async () => {
    const r = await runCli(['run-job', 'empty'], { cwd: project.dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/skipped/);
    expect(sandbox.store.messages()).toHaveLength(0);
  });

  it('401 from the server → exit 1 with a hint about PACHCA_TOKEN, and the token is never printed', async () => {
    const r = await runCli(['run-job', 'sales'], { cwd: project.dir, env: { ...env(), PACHCA_TOKEN: 'wrong-secret-token' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/401/);
    expect(r.stderr).toMatch(/PACHCA_TOKEN/);
    expect(r.stdout + r.stderr).not.toContain('wrong-secret-token');
    expect(sandbox.store.messages()).toHaveLength(0);
  });

  it('404 for an unknown chat → exit 1 with a hint about the chat or the bot membership', async () => {
    const r = await runCli(['run-job', 'nowhere'], { cwd: project.dir, env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/404/);
    expect(r.stderr).toMatch(/chat_id 999999/);
    expect(r.stderr.toLowerCase()).toMatch(/member/);
  });

  it('an unknown job name is a usage error (exit 2) listing the jobs', async () => {
    const r = await runCli(['run-job', 'nope'], { cwd: project.dir, env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sales, empty, nowhere');
  });

  it('with no PACHCA_TOKEN the digest goes to the built-in sandbox and is printed', async () => {
    const r = await runCli(['run-job', 'sales'], { cwd: project.dir, env: {} });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/built-in sandbox/);
    expect(r.stdout).toContain('**Выручка Москва:** 1200 ₽');
    expect(sandbox.store.messages()).toHaveLength(0);
  });
});
