import type { Pool, PoolClient } from 'pg';
import { DigestError } from '../errors.js';
import type { Logger } from '../observability/index.js';
import { LedgerStore } from './core.js';
import { STATE_DEFAULTS } from './defaults.js';
import type { QueryResult, SqlDriver, SqlExecutor, SqlSession } from './driver.js';

export interface PostgresOpenOptions {
  connectionString: string;
  /** Tables live in this schema (created if missing); null = the server's search_path (usually public). */
  schema: string | null;
  /** host:port/database, for messages: never the password. */
  where: string;
  poolMax?: number;
  logger?: Logger;
}

/** Connect, verify the server answers, migrate. `pg` is loaded only here. */
export async function openPostgresStateStore(options: PostgresOpenOptions): Promise<LedgerStore> {
  const { default: pg } = await import('pg');
  const d = STATE_DEFAULTS.postgres;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolMax ?? d.poolMax,
    connectionTimeoutMillis: d.connectTimeoutMs,
    idleTimeoutMillis: d.idleTimeoutMs,
    application_name: d.applicationName,
    // search_path as a startup parameter applies to every pooled connection before its first query.
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client losing its connection (server restart) must not crash the process; the next query reconnects.
  pool.on('error', (err) => options.logger?.warn({ err: err.message, state: options.where }, 'state: idle PostgreSQL connection lost'));
  try {
    await pool.query('SELECT 1');
  } catch (cause) {
    await pool.end().catch(() => {});
    const message = scrub((cause as Error).message, options.connectionString);
    throw new DigestError('E_STATE', `cannot connect to the PostgreSQL run ledger at ${options.where}: ${message}`, {
      cause,
      hint:
        'check that PostgreSQL is running and reachable from here and that state.url has the right host, port, ' +
        'database and credentials (for local development: scripts/start-postgres.sh prints a ready URL)',
    });
  }
  const store = new LedgerStore(new PostgresDriver(pool, options.where, options.schema));
  try {
    await store.migrate();
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  return store;
}

/** Driver messages do not normally carry the password, but never take the chance. */
function scrub(message: string, connectionString: string): string {
  try {
    const password = decodeURIComponent(new URL(connectionString).password);
    return password ? message.split(password).join('***') : message;
  } catch {
    return message;
  }
}

type Queryable = Pool | PoolClient;

function executor(q: Queryable): SqlExecutor {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const r = await q.query(sql, params as unknown[]);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
    },
    async exec(script: string): Promise<void> {
      await q.query(script);
    },
  };
}

/** BEGIN … COMMIT on one pooled connection. */
async function inTransaction<T>(client: PoolClient, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(executor(client));
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly lockRows = ' FOR UPDATE';
  readonly skipLocked = ' FOR UPDATE SKIP LOCKED';
  private readonly direct: SqlExecutor;

  constructor(
    private readonly pool: Pool,
    readonly where: string,
    private readonly schema: string | null,
  ) {
    this.direct = executor(pool);
  }

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.direct.query<R>(sql, params);
  }

  exec(script: string): Promise<void> {
    return this.direct.exec(script);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await inTransaction(client, fn);
    } finally {
      client.release();
    }
  }

  async exclusive<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    const key = STATE_DEFAULTS.postgres.migrationLockKey;
    const client = await this.pool.connect();
    let broken = false;
    try {
      // A session advisory lock serializes replicas starting at once: the second one waits here, then finds every
      // version applied. DDL (CREATE SCHEMA/TABLE) is not safe to race without it.
      await client.query('SELECT pg_advisory_lock($1)', [key]);
      try {
        if (this.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
        const session: SqlSession = { ...executor(client), transaction: (f) => inTransaction(client, f) };
        return await fn(session);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => (broken = true));
      }
    } finally {
      // A connection that may still hold the session lock must not go back to the pool.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
