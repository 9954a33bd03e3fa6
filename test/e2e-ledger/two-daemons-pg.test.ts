/**
 * Two daemons with the same config on one PostgreSQL ledger (replicas): both fire every slot,
 * the ledger's claim lets exactly one of them post it.
 */
import { describe, expect, it } from 'vitest';
import { PG, cliEnv, countBySlot, ledgerSuite, logged, pgUrl, terminate, waitFor, waitStarted } from './helpers.js';

const CONFIG = `
version: 1
state:
  url: sqlite:state/not-used.db
  lease: 10s
jobs:
  - name: pulse
    schedule: "*/2 * * * * *"
    timezone: UTC
    source: { type: static, data: { n: 1 } }
    template: pulse.hbs
    target: { chat_id: 101 }
`;

if (!PG) console.warn('test/e2e-ledger/two-daemons-pg.test.ts: SKIPPED — PACHCA_DIGEST_TEST_PG is not set (scripts/start-postgres.sh prints a URL)');

describe.skipIf(!PG)('two daemons on one PostgreSQL ledger', () => {
  const suite = ledgerSuite();

  it('post every slot exactly once between them', async () => {
    const schema = suite.pgSchema('replicas');
    const p = suite.project(CONFIG, { 'pulse.hbs': 'pulse slot={{slot}}\n' });
    const env = cliEnv(suite.sandbox, { PACHCA_DIGEST_STATE: pgUrl(schema) });
    const a = suite.children.spawn(['run', '--log-format', 'json'], { cwd: p.dir, env });
    const b = suite.children.spawn(['run', '--log-format', 'json'], { cwd: p.dir, env });
    await Promise.all([waitStarted(a), waitStarted(b)]);
    const bothUp = Date.now();

    // Three slots after both daemons are up, each contended by both.
    await waitFor(() => [...countBySlot(suite.sandbox.store.messages(101)).keys()].filter((s) => Date.parse(s) > bothUp).length >= 3, {
      timeoutMs: 12_000,
      what: 'three slots posted while both daemons run',
    });
    const [ea, eb] = await Promise.all([terminate(a), terminate(b)]);
    expect(ea, a.stderr()).toEqual({ code: 0, signal: null });
    expect(eb, b.stderr()).toEqual({ code: 0, signal: null });

    const counts = countBySlot(suite.sandbox.store.messages(101));
    expect(counts.size).toBeGreaterThanOrEqual(3);
    for (const [slot, n] of counts) expect(n, `slot ${slot}`).toBe(1);
    expect(suite.sandbox.store.messages(101).every((m) => m.deleted_at === null && /^pulse slot=/.test(m.content))).toBe(true);

    // Both really competed: for each contended slot one daemon ran it and the other found it claimed.
    const ran = (s: typeof a) => new Set(logged(s, 'run started').map((l) => String(l.slot)));
    // The loser finds it still running (claimed) or already finished (done).
    const lost = (s: typeof a) => new Set(logged(s, /^slot already (claimed by another process|done)/).map((l) => String(l.slot)));
    const contended = [...counts.keys()].filter((s) => Date.parse(s) > bothUp);
    expect(contended.length).toBeGreaterThanOrEqual(3);
    for (const slot of contended) {
      const winners = [a, b].filter((s) => ran(s).has(slot)).length;
      const losers = [a, b].filter((s) => lost(s).has(slot)).length;
      expect({ slot, winners, losers }).toEqual({ slot, winners: 1, losers: 1 });
    }
  });
});
