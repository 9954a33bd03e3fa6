/**
 * A monitor end to end: real `run-job` processes against the sandbox, two of them racing every slot
 * (replicas), on SQLite and on PostgreSQL. Fire → update → acknowledge → resolve posts exactly one
 * alert and edits it; the resolution and a reminder go to the alert's thread.
 */
import { describe, expect, it } from 'vitest';
import { cliEnv, ledgerStores, ledgerSuite, runCli } from '../e2e-ledger/helpers.js';

const CONFIG = `
version: 1
state:
  url: sqlite:state/ledger.db
jobs:
  - name: queue-monitor
    schedule: "*/5 * * * *"
    timezone: UTC
    source: { type: file, path: data/queue.json }
    template: queue.hbs
    target: { chat_id: 101 }
    when: metrics.queue > 100
    monitor:
      repeat: 10m
      mentions: ["@oncall"]
`;
const slot = (min: number) => `2026-12-01T10:${String(min).padStart(2, '0')}:00Z`;

describe('monitor lifecycle through the pipeline', () => {
  const suite = ledgerSuite();

  for (const variant of ledgerStores('test/e2e-monitor/monitor.test.ts')) {
    it.skipIf(!variant.enabled)(`${variant.name}: fire → update → acknowledge → resolve is one message, edited, with two replicas per slot`, async () => {
      const p = suite.project(CONFIG, { 'queue.hbs': '🔥 Очередь поддержки: **{{metrics.queue}}** обращений\n' });
      const { ledger, stateEnv } = await suite.openStore(variant.name, 'monitor');
      const env = cliEnv(suite.sandbox, stateEnv);
      const tick = async (min: number, queue: number) => {
        p.write('data/queue.json', JSON.stringify({ queue }));
        const rs = await Promise.all([0, 1].map(() => runCli(['run-job', 'queue-monitor', '--slot', slot(min)], { cwd: p.dir, env, timeoutMs: 30_000 })));
        for (const r of rs) expect(r.code, r.stderr).toBe(0);
      };
      const alerts = () => suite.sandbox.store.messages(101);
      const replies = () => suite.sandbox.store.messages().filter((m) => m.chat_id !== 101).map((m) => m.content);

      await tick(0, 40); // quiet
      expect(alerts()).toHaveLength(0);

      await tick(5, 150); // fires
      expect(alerts()).toHaveLength(1);
      const id = alerts()[0]!.id;
      expect(alerts()[0]!.content).toContain('@oncall');
      expect(alerts()[0]!.content).toContain('**150**');

      await tick(10, 180); // still true: the same message, fresh numbers
      expect(alerts()).toHaveLength(1);
      expect(alerts()[0]!.content).toContain('**180**');

      await tick(15, 190); // 10 minutes since it fired: a reminder in the thread
      expect(replies().filter((c) => c.startsWith('🔔'))).toHaveLength(1);

      // «Принято»: what the acknowledge button records in the ledger; shown on the alert, no more reminders.
      const user = suite.sandbox.store.users()[0]!;
      expect(await ledger.interactions.acknowledge({ messageId: id, job: 'queue-monitor', userId: user.id, at: new Date(slot(16)) })).toBe(true);
      await tick(20, 200);
      await tick(25, 210);
      expect(alerts()).toHaveLength(1);
      expect(alerts()[0]!.content).toContain('**210**');
      expect(alerts()[0]!.content).toContain(`Принято: @${user.nickname}, 10:16`);
      expect(replies().filter((c) => c.startsWith('🔔'))).toHaveLength(1);

      await tick(30, 20); // resolved in place, once, with a reply in its thread
      await tick(35, 10);
      expect(alerts()).toHaveLength(1);
      expect(alerts()[0]!.id).toBe(id);
      expect(alerts()[0]!.content).toMatch(/^✅ Решено в 10:30, длилось 25 мин/);
      expect(alerts()[0]!.buttons ?? []).toEqual([]);
      expect(replies().filter((c) => c.startsWith('✅'))).toEqual(['✅ Решено в 10:30, длилось 25 мин']);

      // The next episode is a new alert.
      await tick(40, 500);
      expect(alerts()).toHaveLength(2);
    }, 180_000);
  }
});
