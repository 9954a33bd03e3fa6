/**
 * Ledger-driven settings through real `run-job` processes: `period: since_last_success` starts
 * the reporting window at the last successful run's slot (a failed run in between does not move
 * it), and `state.retention.runs` prunes old runs without losing `previous`.
 */
import { describe, expect, it } from 'vitest';
import { cliEnv, ledgerSuite, openLedger, runCli } from './helpers.js';

/** Slots of "0 9 * * *" in Moscow (06:00 UTC). */
const day = (d: number) => `2026-11-${String(d).padStart(2, '0')}T09:00:00+03:00`;
/** How `{{period.startIso}}` prints that slot (milliseconds included). */
const iso = (d: number) => day(d).replace(':00+', ':00.000+');

describe('since_last_success and retention through the pipeline', () => {
  const suite = ledgerSuite();

  const runJob = (job: string, slot: string) => runCli(['run-job', job, '--slot', slot], { cwd: suite.p.dir, env: cliEnv(suite.sandbox) });
  const ok = async (job: string, slot: string) => {
    const r = await runJob(job, slot);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/succeeded/);
  };
  /** A run whose only POST gets a 500 (the config sets pachca.retry.retries: 0). */
  const failing = async (job: string, slot: string) => {
    suite.sandbox.faults.add({ kind: 'status', status: 500, method: 'POST', path: '/messages', times: 1 });
    const r = await runJob(job, slot);
    expect(r.code, r.stderr).toBe(1);
    expect(suite.sandbox.faults.list()).toHaveLength(0);
  };
  const lastContent = (chat: number) => suite.sandbox.store.messages(chat).at(-1)!.content.trim();
  const historyRows = async (job: string) => {
    const h = await runCli(['history', job], { cwd: suite.p.dir, env: cliEnv(suite.sandbox) });
    expect(h.code, h.stderr).toBe(0);
    return h.stdout.split('\n').filter((l) => l.startsWith(job));
  };

  it('period.startIso of the next run is the last successful run’s slot, skipping a failed one', async () => {
    suite.project(
      `
version: 1
pachca:
  retry: { retries: 0 }
state:
  url: sqlite:state/ledger.db
jobs:
  - name: window
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    period: since_last_success
    source: { type: static, data: { n: 1 } }
    template: w.hbs
    target: { chat_id: 101 }
`,
      { 'w.hbs': 'from={{period.startIso}} to={{period.endIso}}\n' },
    );

    // No success yet: the window falls back to the previous slot.
    await ok('window', day(24));
    expect(lastContent(101)).toBe(`from=${iso(23)} to=${iso(24)}`);

    // Two days without a run: the window covers them all, from the first run's slot.
    await ok('window', day(27));
    expect(lastContent(101)).toBe(`from=${iso(24)} to=${iso(27)}`);

    // A failed run is not a success: the next window still starts at day 27.
    await failing('window', day(28));
    await ok('window', day(29));
    expect(lastContent(101)).toBe(`from=${iso(27)} to=${iso(29)}`);
    expect(suite.sandbox.store.messages(101)).toHaveLength(3);
  });

  it('retention.runs: 2 keeps the 2 newest runs in history; previous still carries the last metrics', async () => {
    const p = suite.project(
      `
version: 1
state:
  url: sqlite:state/ledger.db
  retention: { runs: 2 }
jobs:
  - name: kept
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: file, path: data.json }
    template: k.hbs
    target: { chat_id: 102 }
`,
      { 'k.hbs': 'n={{metrics.n}} prev={{#if previous}}{{previous.n}}{{else}}none{{/if}}\n' },
    );
    for (const d of [24, 25, 26, 27]) {
      p.write('data.json', JSON.stringify({ n: d }));
      await ok('kept', day(d));
    }
    expect(suite.sandbox.store.messages(102).map((m) => m.content.trim())).toEqual(['n=24 prev=none', 'n=25 prev=24', 'n=26 prev=25', 'n=27 prev=26']);

    const rows = await historyRows('kept');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^kept\s+2026-11-27 06:00\s+succeeded\s/);
    expect(rows[1]).toMatch(/^kept\s+2026-11-26 06:00\s+succeeded\s/);
    const ledger = await openLedger('sqlite:state/ledger.db', p);
    try {
      expect(await ledger.getRun('kept', new Date(day(24)))).toBeNull();
      expect(await ledger.getRun('kept', new Date(day(25)))).toBeNull();
    } finally {
      await ledger.close();
    }

    p.write('data.json', JSON.stringify({ n: 28 }));
    await ok('kept', day(28));
    expect(lastContent(102)).toBe('n=28 prev=27');
    const after = await historyRows('kept');
    expect(after.map((r) => r.split(/\s+/)[1] + ' ' + r.split(/\s+/)[2])).toEqual(['2026-11-28 06:00', '2026-11-27 06:00']);
  });

  it('retention.runs: 2 with the 2 newest runs failed still keeps the last success for previous', async () => {
    const p = suite.project(
      `
version: 1
pachca:
  retry: { retries: 0 }
state:
  url: sqlite:state/ledger.db
  retention: { runs: 2 }
jobs:
  - name: flaky
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: file, path: data.json }
    template: k.hbs
    target: { chat_id: 103 }
`,
      { 'k.hbs': 'n={{metrics.n}} prev={{#if previous}}{{previous.n}}{{else}}none{{/if}}\n' },
    );
    p.write('data.json', JSON.stringify({ n: 24 }));
    await ok('flaky', day(24));
    p.write('data.json', JSON.stringify({ n: 25 }));
    await failing('flaky', day(25));
    p.write('data.json', JSON.stringify({ n: 26 }));
    await failing('flaky', day(26));

    // The 2 newest (failed) plus the newest success, which pruning never drops.
    const rows = await historyRows('flaky');
    expect(rows.map((r) => r.split(/\s+/).slice(1, 4).join(' '))).toEqual([
      '2026-11-26 06:00 failed',
      '2026-11-25 06:00 failed',
      '2026-11-24 06:00 succeeded',
    ]);

    p.write('data.json', JSON.stringify({ n: 27 }));
    await ok('flaky', day(27));
    expect(lastContent(103)).toBe('n=27 prev=24');
    const after = await historyRows('flaky');
    expect(after.map((r) => r.split(/\s+/).slice(1, 4).join(' '))).toEqual(['2026-11-27 06:00 succeeded', '2026-11-26 06:00 failed']);
  });
});
