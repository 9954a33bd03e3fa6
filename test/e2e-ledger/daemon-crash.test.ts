/**
 * kill -9 of the `run` daemon in the middle of a three-target slot, then a fresh daemon: the
 * crashed slot is finished by the daemon itself (no `run-job` by hand) once the dead process's
 * lease (3 s) is over — every chat of that slot gets exactly one message, and the ledger says
 * `succeeded` after 2 attempts.
 *
 * The schedule fires once a minute at a second computed from "now", so the first slot comes a
 * few seconds after the daemon starts and no second slot of the job interferes.
 */
import { describe, expect, it } from 'vitest';
import type { StateStore } from '../../src/state/types.js';
import type { Spawned } from '../helpers/project.js';
import { cliEnv, countBySlot, ledgerStores, ledgerSuite, logged, runCli, terminate, waitFor, waitStarted } from './helpers.js';

const CHATS = [101, 102, 103];
const LEASE_MS = 3_000;
/** "A few seconds" on top of the lease: a sweep or start-up pass, the claim and three POSTs. */
const RECOVERY_SLACK_MS = 5_000;

/** Fires once a minute, `leadSeconds` from now (seconds-first cron). */
function scheduleSoon(leadSeconds: number): { cron: string; slot: Date } {
  const slot = new Date(Math.ceil((Date.now() + leadSeconds * 1000) / 1000) * 1000);
  return { cron: `${slot.getUTCSeconds()} * * * * *`, slot };
}

function config(cron: string): string {
  return `
version: 1
state:
  url: sqlite:state/ledger.db
  lease: 3s
jobs:
  - name: fanout
    schedule: "${cron}"
    timezone: UTC
    source: { type: static, data: { n: 7 } }
    template: t.hbs
    targets:
${CHATS.map((c) => `      - chat_id: ${c}`).join('\n')}
`;
}

describe.each(ledgerStores('test/e2e-ledger/daemon-crash.test.ts'))('the daemon finishes a slot a killed daemon left running ($name ledger)', ({ name, enabled }) => {
  const suite = ledgerSuite();
  let ledger: StateStore | undefined;
  let stateEnv: Record<string, string> = {};

  async function setup(leadSeconds = 4): Promise<Date> {
    const { cron, slot } = scheduleSoon(leadSeconds);
    suite.project(config(cron), { 't.hbs': 'Сводка slot={{slot}} n={{metrics.n}}\n' });
    ({ ledger, stateEnv } = await suite.openStore(name, 'dcrash'));
    return slot;
  }

  const env = () => cliEnv(suite.sandbox, stateEnv);
  const daemon = (): Spawned => suite.children.spawn(['run', '--log-format', 'json'], { cwd: suite.p.dir, env: env() });

  /**
   * A daemon runs the slot; the sandbox holds the POST to chat 102 (never stored) while 101 and
   * 103 are delivered and recorded; then the daemon gets SIGKILL and the fault is cleared.
   */
  async function crashMidSlot(): Promise<Date> {
    let slot = await setup();
    let first: Spawned;
    for (let lead = 4; ; lead *= 2) {
      suite.sandbox.faults.add({ kind: 'delay', ms: 30_000, method: 'POST', chatId: 102 });
      first = daemon();
      await waitStarted(first);
      const announced = logged(first, 'daemon started')[0]!.jobs as Array<{ job: string; next: string }>;
      if (announced[0]!.next === slot.toISOString()) break;
      // Start-up took longer than the lead (a loaded machine): start over in a fresh project with a longer one.
      expect(lead, `the daemon never started before its slot:\n${first.stderr()}`).toBeLessThan(32);
      first.child.kill('SIGKILL');
      await first.exited;
      suite.sandbox.reset();
      slot = await setup(lead * 2);
    }
    await waitFor(
      async () => {
        if (first.child.exitCode !== null) throw new Error(`daemon exited early (${first.child.exitCode}):\n${first.stderr()}`);
        const keys = ((await ledger!.getRun('fanout', slot))?.deliveries ?? []).map((d) => d.key);
        return keys.includes('chat:101') && keys.includes('chat:103') && suite.sandbox.faults.list().length === 0;
      },
      { timeoutMs: 12_000, what: 'chats 101 and 103 delivered and recorded while the POST to 102 is held' },
    );
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    suite.sandbox.faults.clear();
    expect(suite.sandbox.store.messages(102)).toHaveLength(0);
    const run = await ledger!.getRun('fanout', slot);
    expect(run).toMatchObject({ status: 'running', attempts: 1 });
    return slot;
  }

  /** After the second daemon finished the slot: one message per chat, succeeded in 2 attempts, `history` agrees. */
  async function expectFinished(slot: Date, second: Spawned): Promise<void> {
    for (const chat of CHATS) {
      const counts = countBySlot(suite.sandbox.store.messages(chat));
      expect(counts.get(slot.toISOString()), `chat ${chat}`).toBe(1);
      expect(suite.sandbox.store.messages(chat), `chat ${chat}: nothing but the crashed slot`).toHaveLength(1);
    }
    const run = await ledger!.getRun('fanout', slot);
    expect(run).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
    expect(run!.deliveries.map((d) => d.key).sort()).toEqual(['chat:101', 'chat:102', 'chat:103']);

    const exit = await terminate(second);
    expect(exit, second.stderr()).toEqual({ code: 0, signal: null });

    const history = await runCli(['history', 'fanout'], { cwd: suite.p.dir, env: env() });
    expect(history.code, history.stderr).toBe(0);
    // history shows seconds only when a slot in the table has them (this one may fall on :00).
    const slotText = slot.toISOString().slice(0, slot.getUTCSeconds() === 0 ? 16 : 19).replace('T', ' ');
    const row = history.stdout.split('\n').find((l) => l.startsWith('fanout') && l.includes(slotText));
    expect(row, history.stdout).toMatch(/\ssucceeded\s+\S+\s+2\s/);
  }

  it.skipIf(!enabled)('restarted at once (lease still live): the periodic sweep takes the slot over within lease + a few seconds', async () => {
    const slot = await crashMidSlot();

    const restartedAt = Date.now();
    const second = daemon();
    await waitStarted(second);
    await waitFor(async () => (await ledger!.getRun('fanout', slot))?.status === 'succeeded', {
      timeoutMs: LEASE_MS + RECOVERY_SLACK_MS - (Date.now() - restartedAt),
      intervalMs: 100,
      what: 'the restarted daemon to finish the crashed slot once its lease is over',
    });
    expect(logged(second, 'taking over a run whose process stopped renewing its lease')).toEqual([
      expect.objectContaining({ job: 'fanout', slot: slot.toISOString() }),
    ]);
    await expectFinished(slot, second);
  });

  it.skipIf(!enabled)('restarted after the lease ran out: start-up finishes the slot before anything else', async () => {
    const slot = await crashMidSlot();
    const leaseUntil = (await ledger!.getRun('fanout', slot))!.leaseUntil.getTime();
    await new Promise((r) => setTimeout(r, Math.max(0, leaseUntil - Date.now() + 200)));

    const second = daemon();
    // Start-up recovery runs before "daemon started" is logged.
    await waitStarted(second);
    await waitFor(async () => (await ledger!.getRun('fanout', slot))?.status === 'succeeded', {
      timeoutMs: RECOVERY_SLACK_MS,
      intervalMs: 100,
      what: 'the restarted daemon to finish the crashed slot at start',
    });
    await expectFinished(slot, second);
  });
});
