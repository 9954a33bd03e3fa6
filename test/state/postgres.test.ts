import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import { describeStateStoreContract, type LedgerFixture } from './contract.js';

const PG = process.env.PACHCA_DIGEST_TEST_PG;

if (!PG) {
  console.warn('test/state/postgres.test.ts: PostgreSQL contract SKIPPED — PACHCA_DIGEST_TEST_PG is not set (scripts/start-postgres.sh prints a URL)');
  describe('StateStore contract: postgres', () => {
    it.skip('SKIPPED: set PACHCA_DIGEST_TEST_PG (e.g. export PACHCA_DIGEST_TEST_PG="$(scripts/start-postgres.sh)")', () => {});
  });
} else {
  const base = PG;
  const withSchema = (schema: string) => `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`;

  // Every test gets its own schema: the suites of parallel test files never see each other's rows.
  describeStateStoreContract('postgres', async (): Promise<LedgerFixture> => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const opened: StateStore[] = [];
    return {
      open: async () => {
        // A small pool per store, so "two stores" really are two pools competing for the same rows.
        const s = await openStateStore(withSchema(schema), { baseDir: '/', poolMax: 6 });
        opened.push(s);
        return s;
      },
      dispose: async () => {
        for (const s of opened) await s.close();
        const { default: pg } = await import('pg');
        const client = new pg.Client({ connectionString: base });
        await client.connect();
        try {
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await client.end();
        }
      },
    };
  });
}
