import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { DigestError } from '../errors.js';
import { LedgerStore } from './core.js';
import { STATE_DEFAULTS } from './defaults.js';
import type { QueryResult, SqlDriver, SqlExecutor, SqlSession } from './driver.js';

type Db = BetterSqlite3.Database;

export interface SqliteOpenOptions {
  busyTimeoutMs?: number;
}

/** Open (creating the file and its directory) and migrate. `better-sqlite3` is loaded only here. */
export async function openSqliteStateStore(path: string, options: SqliteOpenOptions = {}): Promise<LedgerStore> {
  const where = path === ':memory:' ? 'sqlite::memory:' : `sqlite:${path}`;
  let db: Db;
  try {
    const { default: Database } = await import('better-sqlite3');
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: options.busyTimeoutMs ?? STATE_DEFAULTS.sqlite.busyTimeoutMs });
    // WAL: readers never block the writer, and a crash mid-write cannot corrupt the ledger.
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (cause) {
    throw new DigestError('E_STATE', `cannot open the SQLite run ledger at ${path}: ${(cause as Error).message}`, {
      cause,
      hint:
        'check that the directory is writable by this process (in Kubernetes mount a volume there), ' +
        'or point state.url at PostgreSQL: postgres://USER:PASSWORD@HOST:5432/DB',
    });
  }
  const store = new LedgerStore(new SqliteDriver(db, where));
  try {
    await store.migrate();
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

/**
 * better-sqlite3 is synchronous, while the core's transactions are async (they await between statements). One
 * queue per PROCESS, shared by every connection, makes each statement wait until a running transaction ends:
 * on the same connection nothing of another operation may run inside it, and on a second connection in the
 * same process a blocking BEGIN would wait (busy_timeout) for a lock whose holder cannot run — a deadlock.
 * Other processes are serialized by SQLite's own locks.
 */
let queue: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => {});
  return next;
}

class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  /** BEGIN IMMEDIATE already holds the database's write lock. */
  readonly lockRows = '';
  /** One writer at a time: nothing to skip. */
  readonly skipLocked = '';
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly direct: SqlExecutor;

  constructor(
    private readonly db: Db,
    readonly where: string,
  ) {
    this.direct = {
      query: async <R>(sql: string, params: readonly unknown[] = []) => this.run<R>(sql, params),
      exec: async (script: string) => void this.db.exec(script),
    };
  }

  query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    return serial(async () => this.run<R>(sql, params));
  }

  exec(script: string): Promise<void> {
    return serial(async () => void this.db.exec(script));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return serial(async () => {
      // IMMEDIATE takes the write lock first, so another process waits (busy_timeout) instead of both reading
      // the same row and both deciding to claim it.
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.direct);
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  exclusive<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    // Each migration runs in its own BEGIN IMMEDIATE and re-checks its version there: that is the lock.
    return fn(this);
  }

  close(): Promise<void> {
    // Queued, so statements already accepted finish before the handle goes.
    return serial(async () => {
      this.statements.clear();
      this.db.close();
    });
  }

  private run<R>(sql: string, params: readonly unknown[]): QueryResult<R> {
    const { text, order } = positional(sql);
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    const values = order.map((i) => toSqlite(params[i - 1]));
    if (s.reader) {
      const rows = s.all(...values) as R[];
      return { rows, rowCount: rows.length };
    }
    const r = s.run(...values);
    return { rows: [], rowCount: r.changes };
  }
}

const positionalCache = new Map<string, { text: string; order: number[] }>();
/** `$n` (possibly repeated) → `?` with the parameters in the order they appear. */
function positional(sql: string): { text: string; order: number[] } {
  let hit = positionalCache.get(sql);
  if (!hit) {
    const order: number[] = [];
    const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
      order.push(Number(n));
      return '?';
    });
    hit = { text, order };
    positionalCache.set(sql, hit);
  }
  return hit;
}

function toSqlite(value: unknown): unknown {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === undefined) return null;
  return value;
}
