/**
 * Each part of a split message is recorded as it lands, so a re-run sends only the missing parts;
 * a DM's chat, once in the ledger, lets the next run check an ambiguous POST without looking it up.
 */
import { describe, expect, it } from 'vitest';
import { cliEnv, ledgerSuite, runCli } from './helpers.js';

const SLOTS = ['2026-11-24T09:00:00+03:00', '2026-11-25T09:00:00+03:00'];
const PARAS = 8;
const CONFIG = `
version: 1
state:
  url: sqlite:state/ledger.db
pachca:
  max_message_bytes: 1000
  retry: { base_delay: 50ms, max_delay: 200ms, settle: 200ms }
jobs:
  - name: long
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: static, data: { paras: ${JSON.stringify(Array.from({ length: PARAS }, (_, i) => i + 1))} } }
    template: long.hbs
    target: { chat_id: 103 }
  - name: dm
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: static, data: {} }
    template: dm.hbs
    target: { user_id: 3 }
`;
const TEMPLATES = {
  'long.hbs': `{{#each metrics.paras}}¶{{this}} ${'текст абзаца для разбиения '.repeat(12)}\n\n{{/each}}`,
  'dm.hbs': 'Лично slot={{slot}}\n',
};

describe('split parts and DM chats in the ledger', () => {
  const suite = ledgerSuite();

  it('a part that fails leaves the earlier parts recorded; the re-run posts only the missing ones, in order', async () => {
    suite.project(CONFIG, TEMPLATES);
    const { ledger } = await suite.openStore('sqlite', 'parts');
    // The 3rd part is refused (not retryable): the run fails after two parts landed.
    suite.sandbox.faults.add({ kind: 'status', status: 422, method: 'POST', path: '/messages', skip: 2 });
    const first = await runCli(['run-job', 'long', '--slot', SLOTS[0]!], { cwd: suite.p.dir, env: cliEnv(suite.sandbox) });
    expect(first.code, first.stderr).toBe(1);
    const failed = await ledger.getRun('long', new Date(SLOTS[0]!));
    expect(failed?.status).toBe('failed');
    expect(failed?.deliveries.map((d) => d.key)).toEqual(['chat:103', 'chat:103~2']);
    expect(suite.sandbox.store.messages(103)).toHaveLength(2);

    const second = await runCli(['run-job', 'long', '--slot', SLOTS[0]!], { cwd: suite.p.dir, env: cliEnv(suite.sandbox) });
    expect(second.code, second.stderr).toBe(0);
    const texts = suite.sandbox.store.messages(103).map((m) => m.content);
    for (let i = 1; i <= PARAS; i++) expect(texts.filter((t) => t.includes(`¶${i} `)), `¶${i}`).toHaveLength(1);
    // In order: paragraph numbers only grow from message to message.
    const order = texts.flatMap((t) => [...t.matchAll(/¶(\d+) /g)].map((m) => Number(m[1])));
    expect(order).toEqual(Array.from({ length: PARAS }, (_, i) => i + 1));
    const done = await ledger.getRun('long', new Date(SLOTS[0]!));
    expect(done?.deliveries.map((d) => d.key)).toEqual(['chat:103', ...Array.from({ length: texts.length - 1 }, (_, i) => `chat:103~${i + 2}`)]);
    expect(done?.deliveries.map((d) => d.messageId)).toEqual(suite.sandbox.store.messages(103).map((m) => m.id));
  });

  it('the DM chat of an earlier delivery is used to check an ambiguous POST: no personal-chat lookup', async () => {
    suite.project(CONFIG, TEMPLATES);
    const one = await runCli(['run-job', 'dm', '--slot', SLOTS[0]!], { cwd: suite.p.dir, env: cliEnv(suite.sandbox) });
    expect(one.code, one.stderr).toBe(0);
    const dmChat = suite.sandbox.store.messages().find((m) => m.entity_type === 'user' && m.entity_id === 3)!.chat_id;
    const before = suite.sandbox.requests().at(-1)!.seq;
    suite.sandbox.faults.add({ kind: 'reset-after', method: 'POST', path: '/messages' });
    const two = await runCli(['run-job', 'dm', '--slot', SLOTS[1]!], { cwd: suite.p.dir, env: cliEnv(suite.sandbox) });
    expect(two.code, two.stderr).toBe(0);
    expect(suite.sandbox.store.messages(dmChat).map((m) => m.content)).toEqual([
      `Лично slot=${new Date(SLOTS[0]!).toISOString()}`,
      `Лично slot=${new Date(SLOTS[1]!).toISOString()}`,
    ]);
    const calls = suite.sandbox.requests().filter((r) => r.seq > before).map((r) => r.endpoint);
    expect(calls).toContain('GET /messages');
    expect(calls).not.toContain('GET /chats');
  });
});
