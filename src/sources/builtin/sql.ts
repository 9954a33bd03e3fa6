import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { defineSource, lazySchema, type SourceContext } from '../define.js';
import { SourceError } from '../errors.js';
import { translateNamedParams } from '../sql-params.js';

export const SQL_DEFAULTS = {
  maxRows: 1000,
  /** SQLite busy timeout cap: the file may be written by the app that owns it. */
  sqliteBusyMs: 5_000,
} as const;

/** Names bound for every query; config `params` cannot reuse them. */
export const SQL_BUILTIN_PARAMS = [
  'period_start',
  'period_end',
  'period_start_epoch',
  'period_end_epoch',
  'period_start_date',
  'period_end_date',
  'job',
] as const;

type ParamValue = string | number | boolean | null;
type Row = Record<string, unknown>;

const options = lazySchema(() =>
  z
    .object({
      driver: z.enum(['postgres', 'sqlite']).optional().describe('Database driver; by default from the url scheme'),
      url: z.string().min(1).describe('postgres://user:pass@host/db, or sqlite:PATH (relative to the config directory)'),
      query: z.string().min(1).describe('One SELECT; named parameters :period_start, :period_end, :job and :<params key>'),
      params: z
        .record(z.string().regex(/^[A-Za-z_]\w*$/, 'a parameter name is letters, digits and _'), z.union([z.string(), z.number(), z.boolean(), z.null()]))
        .optional()
        .refine((p) => !p || !Object.keys(p).some((k) => (SQL_BUILTIN_PARAMS as readonly string[]).includes(k)), {
          message: `params cannot redefine the built-in parameters ${SQL_BUILTIN_PARAMS.join(', ')}`,
        })
        .describe('Extra named parameters for the query'),
      max_rows: z.number().int().positive().default(SQL_DEFAULTS.maxRows).describe('Rows kept; more are cut off with a note'),
    })
    .strict(),
);

type SqlOptions = z.output<ReturnType<typeof options>>;

/**
 * A read-only SELECT against PostgreSQL or SQLite, with bound (never spliced) parameters:
 *   :period_start / :period_end              ISO 8601 with the job timezone offset (timestamptz-ready;
 *                                            SQLite: compare via datetime(:period_start))
 *   :period_start_epoch / :period_end_epoch  Unix seconds
 *   :period_start_date / :period_end_date    YYYY-MM-DD in the job timezone (end exclusive)
 *   :job                                     the job name
 *
 * Result: `{ ...firstRow, rows, count, truncated }` — the first row's columns are also top-level
 * so `SELECT count(*) AS orders, sum(total) AS revenue` reads as `metrics.orders`; the names
 * `rows`, `count` and `truncated` always mean the result itself (alias such columns differently).
 * More than `max_rows` rows: the rest is dropped, `truncated: true`, and a note is added.
 * PostgreSQL: a `BEGIN READ ONLY` transaction with `statement_timeout` = the source timeout,
 * int8/numeric as numbers when exact enough, `date` as YYYY-MM-DD. SQLite: opened read-only.
 */
export default defineSource({
  name: 'sql',
  description: 'SELECT к PostgreSQL или SQLite (только чтение, параметры периода).',
  get options() {
    return options();
  },
  async collect(ctx) {
    const o = ctx.options;
    const driver = o.driver ?? driverFromUrl(o.url);
    const values = paramValues(ctx, o);
    const { rows, truncated } =
      driver === 'postgres' ? await queryPostgres(ctx, o, values) : await querySqlite(ctx, o, values);
    if (truncated) ctx.note?.(`only the first ${o.max_rows} rows were kept (raise max_rows or aggregate in SQL)`);
    return { ...(rows[0] ?? {}), rows, count: rows.length, truncated };
  },
  check: (ctx) => checkSql(ctx.configDir, ctx.options),
});

function driverFromUrl(url: string): 'postgres' | 'sqlite' {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  if (/^sqlite:/i.test(url)) return 'sqlite';
  throw new SourceError(`cannot tell the database from the url scheme (${url.split(':')[0]}:)`, {
    hint: 'Use postgres://… or sqlite:PATH, or set driver: postgres | sqlite.',
  });
}

function paramValues(ctx: SourceContext<SqlOptions>, o: SqlOptions): Record<string, ParamValue> {
  const p = ctx.period;
  return {
    ...o.params,
    period_start: p.startIso,
    period_end: p.endIso,
    period_start_epoch: Math.floor(p.start.getTime() / 1000),
    period_end_epoch: Math.floor(p.end.getTime() / 1000),
    period_start_date: p.startIso.slice(0, 10),
    period_end_date: p.endIso.slice(0, 10),
    job: ctx.job.name,
  };
}

function pickParams(names: string[], values: Record<string, ParamValue>): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const name of names) {
    if (!(name in values)) {
      throw new SourceError(`the query uses :${name}, which is not a parameter`, {
        hint: `Add it to params, or use one of :${SQL_BUILTIN_PARAMS.join(', :')}.`,
      });
    }
    out[name] = values[name]!;
  }
  return out;
}

/** postgres://user:secret@host/db → postgres://user@host/db (errors must not leak passwords). */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.href;
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

const PG_CURSOR = 'pachca_digest_rows';

async function queryPostgres(
  ctx: SourceContext<SqlOptions>,
  o: SqlOptions,
  values: Record<string, ParamValue>,
): Promise<{ rows: Row[]; truncated: boolean }> {
  const { text, names } = translateNamedParams(o.query.trim().replace(/;\s*$/, ''), 'pg');
  const bound = pickParams(names, values);
  const pg = (await import('pg')).default;
  const client = new pg.Client({
    connectionString: o.url,
    application_name: 'pachca-digest',
    connectionTimeoutMillis: ctx.timeoutMs,
    types: { getTypeParser: pgTypeParser(pg.types.getTypeParser) },
  });
  // The server-side statement_timeout ends the query; this ends the connection if the network hangs.
  const onAbort = () => {
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('BEGIN READ ONLY');
    if (ctx.timeoutMs) await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(ctx.timeoutMs))}`);
    // A cursor fetches max_rows + 1 without reading a huge result into memory, and refuses non-SELECTs.
    await client.query({ text: `DECLARE ${PG_CURSOR} NO SCROLL CURSOR FOR ${text}`, values: names.map((n) => bound[n]) });
    const res = await client.query(`FETCH ${o.max_rows + 1} FROM ${PG_CURSOR}`);
    await client.query('ROLLBACK');
    const rows = res.rows as Row[];
    return { rows: rows.slice(0, o.max_rows), truncated: rows.length > o.max_rows };
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw pgError(err, o.url);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}

function pgError(err: unknown, url: string): SourceError {
  const e = err as Error & { code?: string; position?: string; hint?: string };
  const where = e.code && /^[0-9A-Z]{5}$/.test(e.code) ? ` (PostgreSQL ${e.code})` : '';
  const transient =
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', '53300', '57P01', '57P03', '08006', '08001'].includes(e.code ?? '') ||
    /timeout expired|Connection terminated/i.test(e.message);
  let hint = e.hint;
  if (e.code === '25006') hint = 'The sql source is read-only: only SELECT queries are allowed.';
  else if (e.code === '57014') hint = 'The query ran past the source timeout (statement_timeout); raise `timeout:` or make the query cheaper.';
  else if (e.code === 'ECONNREFUSED') hint = `Nothing accepts connections at ${redactUrl(url)}.`;
  return new SourceError(`${e.message}${where}`, { transient: transient && e.code !== '57014', hint, cause: err });
}

function pgTypeParser(fallback: (oid: number, format?: any) => any) {
  const exactNumber = (text: string) => {
    const n = Number(text);
    return Number.isFinite(n) && (Number.isSafeInteger(n) || !/^-?\d+$/.test(text)) ? n : text;
  };
  return (oid: number, format?: any): any => {
    if (format === 'binary') return fallback(oid, format);
    // int8 (count(*), sum(int)) and numeric arrive as strings by default: templates need numbers.
    if (oid === 20 || oid === 1700) return exactNumber;
    // date: keep the calendar day; a Date object would shift with the server timezone.
    if (oid === 1082) return (text: string) => text;
    return fallback(oid, format);
  };
}

/** Opens the SQLite file read-only and prepares the query: shared by the run and `validate`. */
function prepareSqlite(
  Database: typeof import('better-sqlite3'),
  configDir: string,
  o: SqlOptions,
  busyMs: number,
): { db: import('better-sqlite3').Database; stmt: import('better-sqlite3').Statement; names: string[] } {
  let path = o.url.replace(/^sqlite:/i, '');
  if (path.startsWith('//')) path = path.slice(2);
  const file = isAbsolute(path) ? path : resolve(configDir, path);
  if (!existsSync(file)) {
    throw new SourceError(`SQLite database not found: ${file}`, { hint: 'sqlite:PATH is relative to the directory of the config file.' });
  }
  const { text, names } = translateNamedParams(o.query, 'sqlite');
  let db: import('better-sqlite3').Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: busyMs });
    const stmt = db.prepare(text);
    if (!stmt.reader) {
      throw new SourceError('the query returns no rows: the sql source runs one SELECT', { hint: 'Write a SELECT (or WITH … SELECT).' });
    }
    return { db, stmt, names };
  } catch (err) {
    db?.close();
    throw sqliteError(err);
  }
}

function sqliteError(err: unknown): SourceError {
  if (err instanceof SourceError) return err;
  const e = err as Error & { code?: string };
  return new SourceError(`${e.message}${e.code ? ` (${e.code})` : ''}`, {
    transient: e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_LOCKED',
    hint: /readonly/i.test(e.message) ? 'The sql source is read-only: only SELECT queries are allowed.' : undefined,
    cause: err,
  });
}

/** `validate`: the SQLite file opens and the query prepares, with known parameters. PostgreSQL needs the network: not checked. */
async function checkSql(configDir: string, o: SqlOptions): Promise<void> {
  if ((o.driver ?? driverFromUrl(o.url)) !== 'sqlite') return;
  const Database = (await import('better-sqlite3')).default;
  const { db, names } = prepareSqlite(Database, configDir, o, SQL_DEFAULTS.sqliteBusyMs);
  db.close();
  const known = new Set<string>([...SQL_BUILTIN_PARAMS, ...Object.keys(o.params ?? {})]);
  pickParams(names, Object.fromEntries([...known].map((k) => [k, null])));
}

async function querySqlite(
  ctx: SourceContext<SqlOptions>,
  o: SqlOptions,
  values: Record<string, ParamValue>,
): Promise<{ rows: Row[]; truncated: boolean }> {
  const Database = (await import('better-sqlite3')).default;
  const busyMs = Math.min(ctx.timeoutMs ?? SQL_DEFAULTS.sqliteBusyMs, SQL_DEFAULTS.sqliteBusyMs);
  const { db, stmt, names } = prepareSqlite(Database, ctx.configDir, o, busyMs);
  try {
    const bound = Object.fromEntries(
      Object.entries(pickParams(names, values)).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? 1 : 0) : v]),
    );
    const rows: Row[] = [];
    let truncated = false;
    for (const row of (names.length > 0 ? stmt.iterate(bound) : stmt.iterate()) as Iterable<Row>) {
      if (rows.length === o.max_rows) {
        truncated = true;
        break;
      }
      rows.push(row);
    }
    return { rows, truncated };
  } catch (err) {
    throw sqliteError(err);
  } finally {
    db.close();
  }
}
