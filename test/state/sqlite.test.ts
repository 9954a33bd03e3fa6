import { mkdtempSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import { describeStateStoreContract, type LedgerFixture } from './contract.js';
import { runClaimWorkers } from './fixtures/workers.js';

const root = mkdtempSync(join(tmpdir(), 'pachca-digest-state-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
describeStateStoreContract('sqlite file', async (): Promise<LedgerFixture> => {
  const dir = join(root, `ledger-${++counter}`);
  const opened: StateStore[] = [];
  return {
    // A relative path in a directory that does not exist yet: resolved against baseDir, parents created.
    open: async () => {
      const s = await openStateStore('sqlite:data/state.db', { baseDir: dir });
      opened.push(s);
      return s;
    },
    dispose: async () => {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite specifics', () => {
  it('creates parent directories and uses WAL', async () => {
    const dir = join(root, 'specific');
    const store = await openStateStore('sqlite:a/b/c/ledger.sqlite', { baseDir: dir });
    expect(store.kind).toBe('sqlite');
    await store.setFlag('k', 'v');
    expect(existsSync(join(dir, 'a/b/c/ledger.sqlite'))).toBe(true);
    expect(existsSync(join(dir, 'a/b/c/ledger.sqlite-wal'))).toBe(true);
    await store.close();
  });

  it('accepts an absolute path (sqlite:/abs and sqlite:///abs)', async () => {
    const file = join(root, 'abs', 'state.db');
    const a = await openStateStore(`sqlite:${file}`, { baseDir: '/nonexistent' });
    await a.setFlag('k', 'v');
    await a.close();
    const b = await openStateStore(`sqlite://${file}`, { baseDir: '/nonexistent' });
    expect(await b.getFlag('k')).toBe('v');
    await b.close();
  });

  it('sqlite::memory: is a private, working ledger', async () => {
    const a = await openStateStore('sqlite::memory:', { baseDir: root });
    const b = await openStateStore('sqlite::memory:', { baseDir: root });
    const now = new Date('2025-01-01T00:00:00Z');
    expect((await a.claim('j', now, { owner: 'a', leaseMs: 1000, now })).claimed).toBe(true);
    expect((await b.claim('j', now, { owner: 'b', leaseMs: 1000, now })).claimed).toBe(true);
    await a.close();
    await b.close();
  });

  it('an unusable path fails with E_STATE naming the path', async () => {
    const blocker = join(root, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const err = await openStateStore('sqlite:not-a-dir/state.db', { baseDir: root }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_STATE' });
    expect((err as Error).message).toContain(join(blocker, 'state.db'));
    expect((err as { hint?: string }).hint).toBeTruthy();
  });

  it('concurrent claims from separate OS processes: every slot has exactly one winner', async () => {
    const dbPath = join(root, 'multi', 'state.db');
    const slots = 200;
    const results = await runClaimWorkers({ dbPath, workers: 2, slots });
    const winners = new Map<number, string[]>();
    for (const r of results) for (const s of r.won) winners.set(s, [...(winners.get(s) ?? []), r.owner]);
    for (let s = 0; s < slots; s++) expect(winners.get(s), `slot ${s}`).toHaveLength(1);
    // Every process saw every slot (it either won or was told who did).
    for (const r of results) expect(r.won.length + r.lost.length).toBe(slots);
    // Start-up cost: a SQLite process never loads the PostgreSQL driver.
    for (const r of results) expect([r.loadedSqlite, r.loadedPg]).toEqual([true, false]);

    const store = await openStateStore(`sqlite:${dbPath}`, { baseDir: root });
    const history = await store.history({ job: 'race', limit: slots + 10 });
    expect(history).toHaveLength(slots);
    expect(history.every((h) => h.attempts === 1)).toBe(true);
    await store.close();
  }, 60_000);
});
