/**
 * Through the built CLI: retention never un-does a slot (an old `--slot` posts once), and a ledger written by a
 * newer release is refused before anything is posted.
 */
import { describe, expect, it } from 'vitest';
import { LATEST_VERSION } from '../../src/state/index.js';
import { cliEnv, ledgerSuite, openLedger, runCli } from './helpers.js';

const CONFIG = (retention: string) => `
version: 1
state:
  url: sqlite:state/ledger.db
  retention: ${retention}
jobs:
  - name: daily
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: static, data: { n: 1 } }
    template: d.hbs
    target: { chat_id: 103 }
`;
const TEMPLATES = { 'd.hbs': 'slot={{slot}} n={{metrics.n}}\n' };
const daysAgo = (d: number) => {
  const t = new Date(Date.now() - d * 86_400_000);
  t.setUTCHours(6, 0, 0, 0);
  return t.toISOString();
};

describe('old slots and schema versions through the CLI', () => {
  const suite = ledgerSuite();
  const run = (...args: string[]) => runCli(['run-job', 'daily', ...args], { cwd: suite.p.dir, env: cliEnv(suite.sandbox) });

  it('a 100-day-old --slot run twice posts once, even after newer runs pruned its record (retention 365 days, 1 run)', async () => {
    suite.project(CONFIG('{ runs: 1, days: 365 }'), TEMPLATES);
    const old = daysAgo(100);
    const first = await run('--slot', old);
    expect(first.code, first.stderr).toBe(0);
    // Newer slots (each run prunes down to 1 run per job, by when runs were recorded), then the old one again.
    expect((await run('--slot', daysAgo(2))).code).toBe(0);
    expect((await run('--slot', daysAgo(1))).code).toBe(0);
    // Its record was pruned (runs: 1), but the ledger remembers how far retention went: refused, not re-posted.
    const again = await run('--slot', old);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/E_STATE.*retention already removed runs/);
    expect(again.stderr).toMatch(/--force/);
    expect(suite.sandbox.store.messages(103)).toHaveLength(3);
    expect(suite.sandbox.store.messages(103).filter((m) => m.content.includes(`slot=${old.slice(0, 10)}`))).toHaveLength(1);
  });

  it('a --slot older than retention is refused with a clear message and posts nothing; --force runs it', async () => {
    suite.project(CONFIG('{ runs: 10, days: 30 }'), TEMPLATES);
    const old = daysAgo(100);
    for (let i = 0; i < 2; i++) {
      const r = await run('--slot', old);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/E_STATE/);
      expect(r.stderr).toMatch(/older than state\.retention \(30 days\)/);
      expect(r.stderr).toMatch(/--force/);
    }
    expect(suite.sandbox.store.messages(103)).toHaveLength(0);
    const forced = await run('--slot', old, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(suite.sandbox.store.messages(103)).toHaveLength(1);
  });

  it('a ledger from a newer release is refused (E_STATE, both versions named) and nothing is posted', async () => {
    const p = suite.project(CONFIG('{ runs: 10, days: 30 }'), TEMPLATES);
    const ledger = await openLedger('sqlite:state/ledger.db', p);
    await ledger.close();
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(`${p.dir}/state/ledger.db`);
    db.prepare('INSERT INTO digest_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST_VERSION + 1, 'future', Date.now());
    db.close();
    const r = await run();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/E_STATE/);
    expect(r.stderr).toContain(`schema version ${LATEST_VERSION + 1}`);
    expect(r.stderr).toContain(`(version ${LATEST_VERSION})`);
    expect(suite.sandbox.store.messages(103)).toHaveLength(0);
  });
});
