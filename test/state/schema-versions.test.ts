/**
 * Schema versions against real databases: a ledger written by an older release is migrated with its data; one
 * written by a newer release is refused (E_STATE naming both versions) and left untouched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_VERSION, MIGRATIONS, openStateStore } from '../../src/state/index.js';

const root = mkdtempSync(join(tmpdir(), 'pachca-digest-schema-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const SLOT = new Date('2025-03-03T06:00:00.000Z');

interface RawDb {
  url: string;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

async function sqliteRaw(): Promise<RawDb> {
  const file = join(root, `${randomBytes(4).toString('hex')}.db`);
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file);
  return { url: `sqlite:${file}`, exec: async (sql) => void db.exec(sql), close: async () => void db.close() };
}

async function postgresRaw(base: string): Promise<RawDb> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  await client.query(`CREATE SCHEMA "${schema}"; SET search_path = "${schema}"`);
  return {
    url: `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`,
    exec: async (sql) => void (await client.query(sql)),
    close: async () => {
      await client.query(`DROP SCHEMA "${schema}" CASCADE`);
      await client.end();
    },
  };
}

const v1 = MIGRATIONS.find((m) => m.version === 1)!;
const backends: Array<[string, 'sqlite' | 'postgres', () => Promise<RawDb>]> = [['sqlite', 'sqlite', sqliteRaw]];
const PG = process.env.PACHCA_DIGEST_TEST_PG;
if (PG) backends.push(['postgres', 'postgres', () => postgresRaw(PG)]);
else console.warn('test/state/schema-versions.test.ts: PostgreSQL cases SKIPPED — PACHCA_DIGEST_TEST_PG is not set');

describe.each(backends)('ledger schema versions: %s', (_name, dialect, raw) => {
  const t = (ms: number) => (dialect === 'sqlite' ? String(SLOT.getTime() + ms) : `'${new Date(SLOT.getTime() + ms).toISOString()}'`);
  const migrationsTable =
    dialect === 'sqlite'
      ? 'CREATE TABLE digest_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)'
      : 'CREATE TABLE digest_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())';
  const appliedAt = dialect === 'sqlite' ? '0' : 'now()';

  it('a version-1 ledger with runs and deliveries is migrated to the latest version, nothing lost', async () => {
    const db = await raw();
    try {
      await db.exec(migrationsTable);
      await db.exec(v1[dialect]);
      await db.exec(`INSERT INTO digest_migrations (version, name, applied_at) VALUES (1, 'v1', ${appliedAt})`);
      await db.exec(
        `INSERT INTO digest_runs (id, job, slot, status, owner, lease_until, attempts, started_at, finished_at, metrics)
         VALUES ('r1', 'daily', ${t(0)}, 'succeeded', 'old', ${t(60_000)}, 1, ${t(0)}, ${t(5_000)}, '{"n":7}')`,
      );
      await db.exec(
        `INSERT INTO digest_deliveries (run_seq, key, message_id, chat_id, url, delivered_at)
         SELECT seq, 'chat:1#0', 42, 1, NULL, ${t(1_000)} FROM digest_runs WHERE id = 'r1'`,
      );
      const store = await openStateStore(db.url, { baseDir: root });
      try {
        const run = await store.getRun('daily', SLOT);
        expect(run).toMatchObject({ status: 'succeeded', metrics: { n: 7 } });
        expect(run?.deliveries.map((d) => d.messageId)).toEqual([42]);
        // The new status works after the migration.
        const c = await store.claim('daily', new Date(SLOT.getTime() + 3_600_000), { owner: 'a', leaseMs: 60_000, now: SLOT });
        await store.finish(c.run.id, { status: 'interrupted', now: SLOT });
        expect((await store.lastRun('daily'))?.status).toBe('interrupted');
      } finally {
        await store.close();
      }
    } finally {
      await db.close();
    }
  });

  it('a ledger newer than this release is refused with E_STATE naming both versions, and left as it was', async () => {
    const db = await raw();
    try {
      const store = await openStateStore(db.url, { baseDir: root });
      await store.close();
      const future = LATEST_VERSION + 5;
      await db.exec(`INSERT INTO digest_migrations (version, name, applied_at) VALUES (${future}, 'from the future', ${appliedAt})`);
      const err = (await openStateStore(db.url, { baseDir: root }).catch((e: unknown) => e)) as { code?: string; message: string; hint?: string };
      expect(err.code).toBe('E_STATE');
      expect(err.message).toContain(`schema version ${future}`);
      expect(err.message).toContain(`version ${LATEST_VERSION})`);
      expect(err.hint).toMatch(/later release/);
    } finally {
      await db.close();
    }
  });
});
