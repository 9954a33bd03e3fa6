/**
 * kill -9 in the middle of a fan-out run, then `run-job` for the same slot again: every target
 * gets exactly one message. The first process dies while the 2nd chat's POST is held by the
 * sandbox; its claim's lease (2 s) must run out before a re-run may take the slot over.
 */
import { describe, expect, it } from 'vitest';
import type { StateStore } from '../../src/state/types.js';
import type { CliResult } from '../helpers/project.js';
import { cliEnv, ledgerStores, ledgerSuite, runCli, waitFor } from './helpers.js';
import { FIXED_SLOT_RETENTION } from '../helpers/retention.js';

const SLOT = '2026-11-24T09:00:00+03:00';
const SLOT_DATE = new Date(SLOT);
const CHATS = [101, 102, 103];

const CONFIG = `
version: 1
state:
  url: sqlite:state/ledger.db
${FIXED_SLOT_RETENTION}
  lease: 2s
jobs:
  - name: fanout
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: static, data: { n: 7 } }
    template: t.hbs
    targets:
${CHATS.map((c) => `      - chat_id: ${c}`).join('\n')}
`;

describe.each(ledgerStores('test/e2e-ledger/crash-recovery.test.ts'))('kill -9 mid-run, then re-run the slot ($name ledger)', ({ name, enabled }) => {
  const suite = ledgerSuite();
  let ledger: StateStore | undefined;
  let stateEnv: Record<string, string> = {};

  async function setup(): Promise<void> {
    suite.project(CONFIG, { 't.hbs': 'Сводка slot={{slot}} n={{metrics.n}}\n' });
    ({ ledger, stateEnv } = await suite.openStore(name, 'crash'));
  }

  const env = () => cliEnv(suite.sandbox, stateEnv);
  const deliveredKeys = async () => ((await ledger!.getRun('fanout', SLOT_DATE))?.deliveries ?? []).map((d) => d.key).sort();

  /** Starts the run, waits until chats 101 and 103 are delivered (and recorded) while 102's POST hangs, then SIGKILLs it. */
  async function killMidRun(when: 'before' | 'after'): Promise<void> {
    suite.sandbox.faults.add({ kind: 'delay', ms: 20_000, when, method: 'POST', chatId: 102 });
    const first = suite.children.spawn(['run-job', 'fanout', '--slot', SLOT, '--log-format', 'json'], { cwd: suite.p.dir, env: env() });
    await waitFor(
      async () => {
        if (first.child.exitCode !== null) throw new Error(`run-job exited early (${first.child.exitCode}):\n${first.stderr()}`);
        const keys = await deliveredKeys();
        return keys.includes('chat:101') && keys.includes('chat:103') && suite.sandbox.faults.list().length === 0;
      },
      { what: 'chats 101 and 103 delivered and recorded while the POST to 102 hangs' },
    );
    if (when === 'after') {
      // The sandbox stored the message before holding back the answer.
      await waitFor(() => suite.sandbox.store.messages(102).length === 1, { what: 'the held POST to be stored' });
    }
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    suite.sandbox.faults.clear();
    const run = await ledger!.getRun('fanout', SLOT_DATE);
    expect(run?.status).toBe('running');
    expect(run?.attempts).toBe(1);
  }

  /** `run-job` for the same slot until one re-run owns it (earlier ones see the live lease and do nothing). */
  async function rerunUntilDone(): Promise<{ last: CliResult; inProgress: number }> {
    let inProgress = 0;
    let last: CliResult | undefined;
    await waitFor(
      async () => {
        last = await runCli(['run-job', 'fanout', '--slot', SLOT], { cwd: suite.p.dir, env: env(), timeoutMs: 15_000 });
        expect(last.code, last.stderr).toBe(0);
        if (/is being run by/.test(last.stderr)) {
          inProgress++;
          return false;
        }
        return true;
      },
      { timeoutMs: 18_000, intervalMs: 200, what: 'a re-run to take over the expired claim' },
    );
    return { last: last!, inProgress };
  }

  it.skipIf(!enabled)('the held POST was never stored: the re-run posts only to 102, every chat has one message', async () => {
    await setup();
    await killMidRun('before');
    expect(suite.sandbox.store.messages(102)).toHaveLength(0);

    const { last } = await rerunUntilDone();
    expect(last.stderr).toMatch(/succeeded, 1 message\(s\) posted/);
    expect(last.stdout).toMatch(/chat:101: message \d+ .*\(delivered earlier\)/);
    expect(last.stdout).toMatch(/chat:103: message \d+ .*\(delivered earlier\)/);
    expect(last.stdout).not.toMatch(/chat:102:.*delivered earlier/);
    for (const chat of CHATS) expect(suite.sandbox.store.messages(chat), `chat ${chat}`).toHaveLength(1);

    const run = await ledger!.getRun('fanout', SLOT_DATE);
    expect(run?.status).toBe('succeeded');
    expect(run?.attempts).toBe(2);
    expect(await deliveredKeys()).toEqual(['chat:101', 'chat:102', 'chat:103']);

    const history = await runCli(['history', 'fanout'], { cwd: suite.p.dir, env: env() });
    expect(history.code).toBe(0);
    const row = history.stdout.split('\n').find((l) => l.startsWith('fanout'));
    expect(row).toMatch(/2026-11-24 06:00\s+succeeded\s+\S+\s+2\s/);

    // Once succeeded, the slot is done for good.
    const again = await runCli(['run-job', 'fanout', '--slot', SLOT], { cwd: suite.p.dir, env: env() });
    expect(again.stderr).toMatch(/already succeeded/);
    for (const chat of CHATS) expect(suite.sandbox.store.messages(chat)).toHaveLength(1);
  });

  it.skipIf(!enabled)('the held POST was stored but never answered: the re-run finds it instead of posting it twice', async () => {
    await setup();
    await killMidRun('after');

    const { last } = await rerunUntilDone();
    expect(last.stderr).toMatch(/succeeded, 0 message\(s\) posted/);
    for (const chat of CHATS) expect(suite.sandbox.store.messages(chat), `chat ${chat}`).toHaveLength(1);
    const run = await ledger!.getRun('fanout', SLOT_DATE);
    expect(run?.status).toBe('succeeded');
    expect(run?.attempts).toBe(2);
    // The ledger now points at the message the first process posted.
    const d102 = run?.deliveries.find((d) => d.key === 'chat:102');
    expect(d102?.messageId).toBe(suite.sandbox.store.messages(102)[0]!.id);
  });
});
