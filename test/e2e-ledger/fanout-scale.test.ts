/**
 * Per-recipient fan-out at scale, as a correctness check (never timed; the timed 10,000-DM run is
 * in bench/): 2,000 personal DMs through `run-job` against the sandbox, each user once, the ledger
 * holding every delivery (written in batches); and a 400-chat fan-out killed with -9 half-way
 * whose takeover finishes it with every chat served exactly once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import type { StateStore } from '../../src/state/types.js';
import { Children, PG, TOKEN, cliEnv, dropPgSchema, logLines, openLedger, pgSchema, pgUrl, project, runCli, waitFor } from './helpers.js';
import type { Project } from '../helpers/project.js';
import { FIXED_SLOT_RETENTION } from '../helpers/retention.js';

const SLOT = '2026-11-24T09:00:00Z';
const SLOT_DATE = new Date(SLOT);
const USERS = 2_000;
const CHATS = 400;

const config = (target: string, lease = '30s') => `
version: 1
state:
  url: sqlite:state/ledger.db
${FIXED_SLOT_RETENTION}
  lease: ${lease}
jobs:
  - name: personal
    schedule: "0 9 * * *"
    timezone: UTC
    source: { type: file, path: people.csv }
    for_each: metrics.rows
    template: t.hbs
    target:
      ${target}
`;
const csv = (n: number, col: string, base: number) => ['name,' + col, ...Array.from({ length: n }, (_, i) => `Сотрудник ${i},${base + i}`)].join('\n') + '\n';

const stores = [
  { name: 'sqlite', enabled: true },
  { name: 'postgres', enabled: Boolean(PG) },
] as const;

describe.each(stores)('fan-out at scale ($name ledger)', ({ name, enabled }) => {
  let sandbox: Sandbox;
  const children = new Children();
  let p: Project | undefined;
  let ledger: StateStore | undefined;
  let schema: string | undefined;

  beforeAll(async () => {
    const users = Array.from({ length: USERS }, (_, i) => ({ id: 5_000 + i, first_name: `Имя${i}`, last_name: 'Тестов', nickname: `u${i}` }));
    // Pacing is the benchmarks' business (bench/); this checks exactly-once and the ledger under
    // the documented limits (each DM is its own chat, one message each: the token ceiling binds).
    // Strict, like Pachca: every chat the job posts to exists (the ids csv() writes).
    const chats = Array.from({ length: CHATS }, (_, i) => ({ id: 20_000 + i, name: `Канал ${i}` }));
    sandbox = await startSandbox({ tokens: [TOKEN], users, chats });
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  afterEach(async () => {
    await children.killAll();
    await ledger?.close();
    ledger = undefined;
    if (schema) await dropPgSchema(schema);
    schema = undefined;
    p?.cleanup();
    sandbox.reset();
  });

  async function setup(target: string, data: string, lease?: string): Promise<Record<string, string>> {
    p = project(config(target, lease), { 't.hbs': 'Личный отчёт для {{item.name}}: slot={{slot}}\n' });
    p.write('people.csv', data);
    let url = 'sqlite:state/ledger.db';
    let env: Record<string, string> = {};
    if (name === 'postgres') {
      schema = pgSchema('fanout_scale');
      url = pgUrl(schema);
      env = { PACHCA_DIGEST_STATE: url };
    }
    ledger = await openLedger(url, p);
    await ledger.migrate();
    return env;
  }

  it.skipIf(!enabled)('2,000 DMs: every user exactly once, every delivery in the ledger, progress logged', async () => {
    const env = await setup('user_id: "{{item.user_id}}"', csv(USERS, 'user_id', 5_000));
    const r = await runCli(['run-job', 'personal', '--slot', SLOT, '--log-format', 'json'], { cwd: p!.dir, env: cliEnv(sandbox, env), timeoutMs: 240_000 });
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`succeeded, ${USERS} message\\(s\\) posted`));

    const messages = sandbox.store.messages();
    expect(messages).toHaveLength(USERS);
    const perUser = new Map<number, number>();
    for (const m of messages) {
      expect(m.entity_type).toBe('user');
      perUser.set(m.entity_id, (perUser.get(m.entity_id) ?? 0) + 1);
    }
    expect(perUser.size).toBe(USERS);
    expect([...perUser.values()].every((n) => n === 1)).toBe(true);
    // Each user got their own text.
    const m42 = messages.find((m) => m.entity_id === 5_042)!;
    expect(m42.content).toContain('Сотрудник 42');

    const run = await ledger!.getRun('personal', SLOT_DATE);
    expect(run?.status).toBe('succeeded');
    expect(run?.deliveries).toHaveLength(USERS);
    expect(new Set(run!.deliveries.map((d) => d.messageId)).size).toBe(USERS);

    const progress = logLines({ stderr: () => r.stderr } as never).filter((l) => l.msg === 'fan-out finished');
    expect(progress).toHaveLength(1);
    expect(progress[0]).toMatchObject({ job: 'personal', sent: USERS, total: USERS });
  }, 300_000);

  it.skipIf(!enabled)('kill -9 half-way through a 400-chat fan-out: the takeover finishes it, each chat exactly once', async () => {
    const env = await setup('chat_id: "{{item.chat_id}}"', csv(CHATS, 'chat_id', 20_000), '2s');
    // Slow the POSTs down so the run is still going when it is killed.
    sandbox.faults.add({ kind: 'delay', ms: 200, method: 'POST', times: 10_000 });
    const first = children.spawn(['run-job', 'personal', '--slot', SLOT, '--log-format', 'json'], { cwd: p!.dir, env: cliEnv(sandbox, env) });
    await waitFor(
      () => {
        if (first.child.exitCode !== null) throw new Error(`run-job exited early (${first.child.exitCode}):\n${first.stderr()}`);
        return sandbox.store.messages().length >= CHATS / 2;
      },
      { timeoutMs: 120_000, what: 'half of the chats served' },
    );
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    sandbox.faults.clear();
    const before = sandbox.store.messages().length;
    const recorded = (await ledger!.getRun('personal', SLOT_DATE))?.deliveries.length ?? 0;
    // At most the batches not yet written (senders wait beyond two) and the messages in flight.
    expect(before - recorded).toBeLessThanOrEqual(3 * 50 + 16);

    let last: Awaited<ReturnType<typeof runCli>> | undefined;
    await waitFor(
      async () => {
        last = await runCli(['run-job', 'personal', '--slot', SLOT], { cwd: p!.dir, env: cliEnv(sandbox, env), timeoutMs: 120_000 });
        expect(last.code, last.stderr.slice(-2000)).toBe(0);
        return !/is being run by/.test(last.stderr);
      },
      { timeoutMs: 150_000, intervalMs: 300, what: 'a re-run to take over the expired claim' },
    );
    const perChat = new Map<number, number>();
    for (const m of sandbox.store.messages()) perChat.set(m.chat_id, (perChat.get(m.chat_id) ?? 0) + 1);
    expect(perChat.size).toBe(CHATS);
    expect([...perChat.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    const run = await ledger!.getRun('personal', SLOT_DATE);
    expect(run?.status).toBe('succeeded');
    expect(run?.attempts).toBe(2);
    expect(run?.deliveries).toHaveLength(CHATS);
  }, 300_000);
});
