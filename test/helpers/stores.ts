/**
 * Ledgers for tests over both drivers: an in-memory SQLite, or a fresh schema of the test
 * PostgreSQL (PACHCA_DIGEST_TEST_PG) dropped again by `closeTestStores()` (call it in afterEach).
 */
import { randomBytes } from 'node:crypto';
import { openStateStore, type StateStore } from '../../src/state/index.js';

export const TEST_PG = process.env.PACHCA_DIGEST_TEST_PG;
/** The ledgers a contract test runs over: PostgreSQL only when the test server is configured. */
export const LEDGER_KINDS: Array<'sqlite' | 'postgres'> = TEST_PG ? ['sqlite', 'postgres'] : ['sqlite'];

const opened: Array<{ store: StateStore; schema?: string }> = [];

export async function openTestStore(kind: 'sqlite' | 'postgres', prefix = 't'): Promise<StateStore> {
  if (kind === 'sqlite') {
    const store = await openStateStore('sqlite::memory:', { baseDir: '/' });
    opened.push({ store });
    return store;
  }
  const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
  const store = await openStateStore(`${TEST_PG}${TEST_PG!.includes('?') ? '&' : '?'}schema=${schema}`, { baseDir: '/' });
  opened.push({ store, schema });
  return store;
}

export async function closeTestStores(): Promise<void> {
  for (const { store, schema } of opened.splice(0)) {
    await store.close();
    if (schema) {
      const { default: pg } = await import('pg');
      const c = new pg.Client({ connectionString: TEST_PG });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    }
  }
}
