/**
 * What an operator reads: `history` (from the ledger the runs wrote) and `list` (next run times).
 */
import { describe, expect, it } from 'vitest';
import { cliEnv, ledgerSuite, runCli } from './helpers.js';
import { FIXED_SLOT_RETENTION } from '../helpers/retention.js';

const CONFIG = `
version: 1
pachca:
  retry: { retries: 0 }
state:
  url: sqlite:state/ledger.db
${FIXED_SLOT_RETENTION}
jobs:
  - name: sales
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: static, data: { n: 1 } }
    template: t.hbs
    target: { chat_id: 101 }
  - name: ny
    schedule: "30 8 * * 1-5"
    timezone: America/New_York
    source: { type: static, data: { n: 2 } }
    template: t.hbs
    target: { chat_id: 102 }
`;

describe('history and list', () => {
  const suite = ledgerSuite();

  it('history [job] --limit N: slot, status, attempts, message links and the error of a failed run', async () => {
    const p = suite.project(CONFIG, { 't.hbs': 'n={{metrics.n}} slot={{slot}}\n' });
    const env = cliEnv(suite.sandbox);
    const ok = await runCli(['run-job', 'sales', '--slot', '2026-11-24T09:00:00+03:00'], { cwd: p.dir, env });
    expect(ok.code, ok.stderr).toBe(0);
    suite.sandbox.faults.add({ kind: 'status', status: 500, method: 'POST', times: 1 });
    const bad = await runCli(['run-job', 'sales', '--slot', '2026-11-25T09:00:00+03:00'], { cwd: p.dir, env });
    expect(bad.code).toBe(1);
    const other = await runCli(['run-job', 'ny', '--slot', '2026-11-24T08:30:00-05:00'], { cwd: p.dir, env });
    expect(other.code, other.stderr).toBe(0);
    const [message] = suite.sandbox.store.messages(101);

    const h = await runCli(['history', 'sales', '--limit', '5'], { cwd: p.dir, env });
    expect(h.code, h.stderr).toBe(0);
    const lines = h.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/JOB\s+SLOT \(UTC\)\s+STATUS\s+DURATION\s+ATTEMPTS\s+MESSAGES\s+ERROR/);
    expect(lines).toHaveLength(3); // header + the two sales runs, newest first; ny is not listed
    expect(lines[1]).toMatch(/^sales\s+2026-11-25 06:00\s+failed\s+\d+\.\ds\s+1\s+—\s+E_DELIVERY: .*500/);
    expect(lines[2]).toMatch(/^sales\s+2026-11-24 06:00\s+succeeded\s+\d+\.\ds\s+1\s+/);
    expect(lines[2]).toContain(`${suite.sandbox.origin}/chats/101#message-${message!.id}`);

    const one = await runCli(['history', '--limit', '1'], { cwd: p.dir, env });
    expect(one.code).toBe(0);
    const oneLines = one.stdout.trimEnd().split('\n');
    expect(oneLines).toHaveLength(2);
    // Newest by slot across all jobs: ny's 2026-11-24 13:30 UTC is older than sales' 2026-11-25 06:00 UTC.
    expect(oneLines[1]).toMatch(/^sales\s+2026-11-25 06:00\s+failed/);

    const bogus = await runCli(['history', '--limit', 'many'], { cwd: p.dir, env });
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/--limit "many"/);
  });

  it('list: the next 3 runs in the job’s time zone and in UTC', async () => {
    const p = suite.project(CONFIG, { 't.hbs': 'n={{metrics.n}}\n' });
    const before = Date.now();
    const r = await runCli(['list'], { cwd: p.dir, env: {} });
    expect(r.code, r.stderr).toBe(0);
    const row = r.stdout.split('\n').find((l) => l.startsWith('sales'))!;
    expect(row).toContain('Europe/Moscow');
    // Moscow is UTC+3 all year: 09:00 there is 06:00 UTC, on the next three days.
    const first = new Date(before);
    first.setUTCHours(6, 0, 0, 0);
    if (first.getTime() <= before) first.setUTCDate(first.getUTCDate() + 1);
    const expected = [0, 1, 2].map((i) => {
      const d = new Date(first.getTime() + i * 86_400_000);
      const day = d.toISOString().slice(0, 10);
      return `${day} 09:00 +03:00 / ${day} 06:00Z`;
    });
    expect(row).toContain(expected.join('; '));

    const ny = r.stdout.split('\n').find((l) => l.startsWith('ny'))!;
    const runs = ny.split(/\s{2,}/).at(-1)!.split('; ');
    expect(runs).toHaveLength(3);
    for (const run of runs) {
      // 08:30 New York is 13:30 UTC in winter (-05:00) and 12:30 UTC in summer (-04:00).
      const m = /^(\d{4}-\d\d-\d\d) 08:30 (-05:00|-04:00) \/ (\d{4}-\d\d-\d\d) (\d\d:\d\d)Z$/.exec(run);
      expect(m, run).not.toBeNull();
      expect(m![3]).toBe(m![1]);
      expect(m![4]).toBe(m![2] === '-05:00' ? '13:30' : '12:30');
      const weekday = new Date(`${m![1]}T12:00:00Z`).getUTCDay();
      expect(weekday >= 1 && weekday <= 5, `${run} is a weekday`).toBe(true);
    }
  });
});
