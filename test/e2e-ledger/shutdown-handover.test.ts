/**
 * SIGTERM in the middle of a three-target slot hands the slot over instead of failing it: the daemon gives the run
 * `shutdown_grace` (1 s here), then records it `interrupted` with the deliveries so far and exits 0. A new daemon
 * finishes it at start — long before the 10-minute lease would have let it take over — sending only the missing
 * message: every chat gets exactly one.
 */
import { describe, expect, it } from 'vitest';
import type { StateStore } from '../../src/state/types.js';
import type { Spawned } from '../helpers/project.js';
import { cliEnv, countBySlot, ledgerStores, ledgerSuite, logged, runCli, terminate, waitFor, waitStarted } from './helpers.js';

const CHATS = [101, 102, 103];

function scheduleSoon(leadSeconds: number): { cron: string; slot: Date } {
  const slot = new Date(Math.ceil((Date.now() + leadSeconds * 1000) / 1000) * 1000);
  return { cron: `${slot.getUTCSeconds()} * * * * *`, slot };
}

const config = (cron: string) => `
version: 1
state:
  url: sqlite:state/ledger.db
  lease: 10m
  shutdown_grace: 1s
jobs:
  - name: fanout
    schedule: "${cron}"
    timezone: UTC
    source: { type: static, data: { n: 7 } }
    template: t.hbs
    targets:
${CHATS.map((c) => `      - chat_id: ${c}`).join('\n')}
`;

describe.each(ledgerStores('test/e2e-ledger/shutdown-handover.test.ts'))('SIGTERM hands a slot over ($name ledger)', ({ name, enabled }) => {
  const suite = ledgerSuite();
  let ledger: StateStore | undefined;
  let stateEnv: Record<string, string> = {};
  const env = () => cliEnv(suite.sandbox, stateEnv);
  const daemon = (): Spawned => suite.children.spawn(['run', '--log-format', 'json'], { cwd: suite.p.dir, env: env() });

  it.skipIf(!enabled)('interrupted after the grace, finished by the next daemon at once: every target once', async () => {
    const { cron, slot } = scheduleSoon(4);
    suite.project(config(cron), { 't.hbs': 'Сводка slot={{slot}} n={{metrics.n}}\n' });
    ({ ledger, stateEnv } = await suite.openStore(name, 'handover'));

    suite.sandbox.faults.add({ kind: 'delay', ms: 60_000, method: 'POST', chatId: 102 });
    const first = daemon();
    await waitStarted(first);
    await waitFor(
      async () => {
        const keys = ((await ledger!.getRun('fanout', slot))?.deliveries ?? []).map((d) => d.key);
        return keys.includes('chat:101') && keys.includes('chat:103');
      },
      { timeoutMs: 15_000, what: 'chats 101 and 103 delivered while the POST to 102 is held' },
    );
    const termAt = Date.now();
    const exit = await terminate(first, 15_000);
    const stopMs = Date.now() - termAt;
    expect(exit, first.stderr()).toEqual({ code: 0, signal: null });
    // The grace (1 s) plus the hand-over, with a wide margin for a loaded machine.
    expect(stopMs).toBeLessThan(10_000);
    expect(logged(first, 'shutdown grace period over: handing runs in flight back')).toHaveLength(1);
    suite.sandbox.faults.clear();

    const run = await ledger!.getRun('fanout', slot);
    expect(run).toMatchObject({ status: 'interrupted', attempts: 1, error: null });
    expect(run!.reason).toMatch(/2 of 3 message\(s\) delivered/);
    expect(run!.deliveries.map((d) => d.key).sort()).toEqual(['chat:101', 'chat:103']);
    expect(suite.sandbox.store.messages(102)).toHaveLength(0);
    // history shows what really landed: the interrupted row with its two messages.
    const h1 = await runCli(['history', 'fanout'], { cwd: suite.p.dir, env: env() });
    const row1 = h1.stdout.split('\n').find((l) => l.startsWith('fanout'));
    expect(row1, h1.stdout).toMatch(/\sinterrupted\s/);
    expect(row1).toMatch(/chats\/101#message-\d+ \S+chats\/103#message-\d+\s/);
    expect(row1).not.toMatch(/chats\/102/);

    const second = daemon();
    await waitStarted(second);
    await waitFor(async () => (await ledger!.getRun('fanout', slot))?.status === 'succeeded', {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the next daemon to finish the interrupted slot (the lease is 10 minutes: only the hand-over allows this)',
    });
    for (const chat of CHATS) {
      expect(countBySlot(suite.sandbox.store.messages(chat)).get(slot.toISOString()), `chat ${chat}`).toBe(1);
      expect(suite.sandbox.store.messages(chat), `chat ${chat}`).toHaveLength(1);
    }
    const done = await ledger!.getRun('fanout', slot);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(done!.deliveries.map((d) => d.key).sort()).toEqual(['chat:101', 'chat:102', 'chat:103']);
    expect(await terminate(second)).toEqual({ code: 0, signal: null });
  }, 60_000);
});
