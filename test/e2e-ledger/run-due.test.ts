/**
 * `run-due` (one pass, for a frequent CronJob): runs every job whose latest slot is within its
 * starting deadline exactly once, however often the pass is repeated.
 */
import { describe, expect, it } from 'vitest';
import { cliEnv, ledgerSuite, openLedger, runCli, slotOf } from './helpers.js';

// Daily at 00:00 UTC with a 25 h deadline: the latest slot (today's midnight) is always due and
// stays the same between two passes a few seconds apart. The yearly job's latest slot is months
// (or at least an hour) old, past its 1 h deadline.
const CONFIG = `
version: 1
state:
  url: sqlite:state/ledger.db
defaults:
  timezone: UTC
jobs:
  - name: morning
    schedule: "0 0 * * *"
    starting_deadline: 25h
    source: { type: static, data: { n: 1 } }
    template: t.hbs
    target: { chat_id: 101 }
  - name: evening
    schedule: "0 0 * * *"
    starting_deadline: 25h
    source: { type: static, data: { n: 2 } }
    template: t.hbs
    target: { chat_id: 102 }
  - name: yearly
    schedule: "0 0 1 1 *"
    starting_deadline: 1h
    source: { type: static, data: { n: 3 } }
    template: t.hbs
    target: { chat_id: 103 }
  - name: paused
    enabled: false
    schedule: "0 0 * * *"
    source: { type: static, data: { n: 4 } }
    template: t.hbs
    target: { chat_id: 104 }
`;

describe('run-due', () => {
  const suite = ledgerSuite();

  it('runs each due job once, does nothing on the next pass, and leaves a job past its deadline alone', async () => {
    const p = suite.project(CONFIG, { 't.hbs': '{{job.name}} slot={{slot}} n={{metrics.n}}\n' });
    const today = new Date();
    today.setUTCHours(0, 0, 0, 0);
    const slot = today.toISOString();

    const first = await runCli(['run-due'], { cwd: p.dir, env: cliEnv(suite.sandbox) });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`morning ${slot}: succeeded`);
    expect(first.stderr).toContain(`evening ${slot}: succeeded`);
    // A job with nothing to run says why.
    expect(first.stderr).toMatch(/yearly: not due — the latest slot \S+ \S+ \S+ is older than starting_deadline \(3600s\)/);
    expect(first.stderr).not.toMatch(/yearly \S+: /);
    expect(first.stderr).toContain('paused: not run — disabled (enabled: false)');
    expect(suite.sandbox.store.messages(101).map((m) => m.content)).toEqual([`morning slot=${slot} n=1`]);
    expect(suite.sandbox.store.messages(102).map((m) => m.content)).toEqual([`evening slot=${slot} n=2`]);
    expect(suite.sandbox.store.messages(103)).toEqual([]);

    const second = await runCli(['run-due'], { cwd: p.dir, env: cliEnv(suite.sandbox) });
    expect(second.code, second.stderr).toBe(0);
    // Decided from the ledger before claiming: not due, with the reason and the next slot.
    expect(second.stderr).toMatch(/morning: not due — slot \S+ 00:00 \+00:00 already succeeded; next slot /);
    expect(second.stderr).toMatch(/evening: not due — slot \S+ 00:00 \+00:00 already succeeded/);
    expect(second.stderr).toMatch(/run-due: nothing ran — none of the 3 enabled job\(s\) had a due slot/);
    expect(suite.sandbox.store.messages()).toHaveLength(2);
    expect(suite.sandbox.store.messages().map(slotOf)).toEqual([slot, slot]);

    const ledger = await openLedger('sqlite:state/ledger.db', p);
    try {
      expect(await ledger.getRun('morning', today)).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(await ledger.getRun('evening', today)).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(await ledger.lastRun('yearly')).toBeNull();
    } finally {
      await ledger.close();
    }
  });

  it('a failed job makes the pass exit 1; the next pass retries only that one', async () => {
    const p = suite.project(CONFIG, { 't.hbs': '{{job.name}} slot={{slot}} n={{metrics.n}}\n' });
    p.write('jobs.config.yaml', `${CONFIG.replace('version: 1', 'version: 1\npachca:\n  retry: { retries: 0 }')}`);
    suite.sandbox.faults.add({ kind: 'status', status: 500, method: 'POST', chatId: 102, times: 1 });

    const first = await runCli(['run-due'], { cwd: p.dir, env: cliEnv(suite.sandbox) });
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toMatch(/evening \S+: failed/);
    expect(suite.sandbox.store.messages(101)).toHaveLength(1);
    expect(suite.sandbox.store.messages(102)).toHaveLength(0);

    const second = await runCli(['run-due'], { cwd: p.dir, env: cliEnv(suite.sandbox) });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/evening \S+: succeeded/);
    expect(second.stderr).toMatch(/morning: not due — slot \S+ \S+ \S+ already succeeded/);
    expect(suite.sandbox.store.messages(101)).toHaveLength(1);
    expect(suite.sandbox.store.messages(102)).toHaveLength(1);
  });
});
