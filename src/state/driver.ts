/**
 * The tiny interface the ledger core (core.ts) is written against, so every algorithm exists once and each
 * database only says how to run a statement and a transaction (the idea of unjs/db0).
 *
 * Conventions every driver honours, so the core's SQL is the same text for both dialects:
 * - placeholders are `$1`, `$2`, … (a parameter may repeat);
 * - a `Date` parameter is a point in time (SQLite: epoch ms integer; PostgreSQL: timestamptz), and time columns
 *   come back as `Date | number` — the core converts with `toDate`;
 * - booleans are passed as 1/0 and compared with `= 1`; JSON is passed as text and read back with
 *   `CAST(col AS TEXT)`; 64-bit integers may come back as strings.
 */
export interface QueryResult<R> {
  rows: R[];
  /** Rows inserted, updated or deleted (or returned, for a SELECT / RETURNING). */
  rowCount: number;
}

export interface SqlExecutor {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface SqlSession extends SqlExecutor {
  /**
   * Run `fn` in one transaction that serializes with every other writer of the same rows: SQLite takes the write
   * lock at BEGIN (IMMEDIATE); PostgreSQL relies on `lockRows` in the core's SELECTs. Rolled back when fn throws.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

export interface SqlDriver extends SqlSession {
  readonly dialect: 'sqlite' | 'postgres';
  /** The redacted location, for messages. */
  readonly where: string;
  /** Appended to a SELECT inside a transaction to lock the rows it read (`FOR UPDATE`, or '' where BEGIN locked). */
  readonly lockRows: string;
  /** Appended to a locking sub-select that should pass over rows other transactions hold (a work queue): `FOR UPDATE SKIP LOCKED`, or ''. */
  readonly skipLocked: string;
  /** Run `fn` while no other process migrates the same ledger (PostgreSQL: advisory lock; SQLite: write locks). */
  exclusive<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A time column as returned by either driver. */
export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(Number(value));
}

export function toDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}
