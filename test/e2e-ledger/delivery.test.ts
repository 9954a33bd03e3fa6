/**
 * What the ledger carries from one slot to the next: `delivery: update` edits the message the
 * previous run posted (or posts anew when it was deleted), and `previous` is the last run's metrics.
 */
import { describe, expect, it } from 'vitest';
import { TOKEN, cliEnv, ledgerSuite, runCli } from './helpers.js';

// Consecutive slots of "0 9 * * *" in Moscow.
const SLOTS = ['2026-11-24T09:00:00+03:00', '2026-11-25T09:00:00+03:00', '2026-11-26T09:00:00+03:00'];

function config(value: number): string {
  return `
version: 1
state:
  url: sqlite:state/ledger.db
jobs:
  - name: board
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    delivery: update
    source: { type: static, data: { value: ${value} } }
    template: board.hbs
    target: { chat_id: 101 }
  - name: trend
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: static, data: { value: ${value} } }
    template: trend.hbs
    target: { chat_id: 102 }
  - name: partial
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: static, data: { value: ${value} } }
    template: board.hbs
    targets:
      - chat_id: 103
      - chat_id: 999999
`;
}

const TEMPLATES = {
  'board.hbs': 'Табло на {{slot}}: {{metrics.value}}\n',
  'trend.hbs': 'Сейчас {{metrics.value}}, {{#if previous}}было {{previous.value}}{{else}}впервые{{/if}}\n',
};

describe('ledger-driven delivery', () => {
  const suite = ledgerSuite();

  const run = async (job: string, slot: string) => {
    const r = await runCli(['run-job', job, '--slot', slot], { cwd: suite.p.dir, env: cliEnv(suite.sandbox) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/succeeded/);
    return r;
  };

  it('delivery: update edits the previous slot’s message; after it is deleted, the next run posts a new one', async () => {
    const p = suite.project(config(5), TEMPLATES);
    await run('board', SLOTS[0]!);
    const [posted] = suite.sandbox.store.messages(101);
    expect(posted!.content).toBe('Табло на 2026-11-24T06:00:00.000Z: 5');
    expect(posted!.changed_at).toBeNull();

    p.write('jobs.config.yaml', config(6));
    await run('board', SLOTS[1]!);
    const afterEdit = suite.sandbox.store.messages(101);
    expect(afterEdit).toHaveLength(1);
    expect(afterEdit[0]!.id).toBe(posted!.id);
    expect(afterEdit[0]!.content).toBe('Табло на 2026-11-25T06:00:00.000Z: 6');
    expect(afterEdit[0]!.changed_at).not.toBeNull();
    expect(suite.sandbox.requests().filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([200]);

    // Someone deletes the board message through the API.
    const del = await fetch(`${suite.sandbox.baseUrl}/messages/${posted!.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(del.status).toBeLessThan(300);
    expect(suite.sandbox.store.liveMessages(101)).toHaveLength(0);

    p.write('jobs.config.yaml', config(7));
    await run('board', SLOTS[2]!);
    const live = suite.sandbox.store.liveMessages(101);
    expect(live).toHaveLength(1);
    expect(live[0]!.id).not.toBe(posted!.id);
    expect(live[0]!.content).toBe('Табло на 2026-11-26T06:00:00.000Z: 7');
    expect(live[0]!.changed_at).toBeNull();
    expect(suite.sandbox.store.messages(101)).toHaveLength(2);
  });

  it('a retried fan-out keeps what was delivered and reports a missing chat by its POST error', async () => {
    const p = suite.project(config(5), TEMPLATES);
    const slot = ['run-job', 'partial', '--slot', SLOTS[0]!];
    const first = await runCli(slot, { cwd: p.dir, env: cliEnv(suite.sandbox) });
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toMatch(/chat_id 999999/);
    expect(suite.sandbox.store.messages(103)).toHaveLength(1);

    // run-job retries a failed slot: attempt 2 re-checks the chats it has no record for before posting.
    const second = await runCli(slot, { cwd: p.dir, env: cliEnv(suite.sandbox) });
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toMatch(/404/);
    expect(second.stderr).toMatch(/POST \/messages/);
    expect(second.stderr).toMatch(/chat_id 999999/);
    expect(second.stderr).not.toMatch(/GET \/messages/);
    expect(suite.sandbox.store.messages(103)).toHaveLength(1);
  });

  it('previous: the first run says впервые, the next slot’s run shows the last run’s value', async () => {
    const p = suite.project(config(5), TEMPLATES);
    await run('trend', SLOTS[0]!);
    p.write('jobs.config.yaml', config(8));
    await run('trend', SLOTS[1]!);
    expect(suite.sandbox.store.messages(102).map((m) => m.content)).toEqual(['Сейчас 5, впервые', 'Сейчас 8, было 5']);
  });
});
