import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { DigestError } from '../errors.js';
import { STATE_DEFAULTS } from './defaults.js';
import { MIGRATIONS, MIGRATIONS_TABLE } from './migrations.js';
import {
  checkDate,
  closedError,
  newRunId,
  parseJson,
  sortDeliveries,
  stateError,
  toJson,
  unknownRunError,
} from './shared.js';
import type {
  ClaimOptions,
  ClaimResult,
  DeliveryRecord,
  FinishOptions,
  RunRecord,
  RunStatus,
  StateStore,
} from './types.js';

type Db = BetterSqlite3.Database;

interface RunRow {
  seq: number;
  id: string;
  job: string;
  slot: number;
  status: RunStatus;
  owner: string;
  lease_until: number;
  attempts: number;
  started_at: number;
  finished_at: number | null;
  reason: string | null;
  error: string | null;
  metrics: string | null;
}

interface DeliveryRow {
  run_seq: number;
  key: string;
  message_id: number;
  chat_id: number | null;
  url: string | null;
  delivered_at: number;
}

export interface SqliteOpenOptions {
  busyTimeoutMs?: number;
}

/** Open (creating the file and its directory) and migrate. `better-sqlite3` is loaded only here. */
export async function openSqliteStateStore(path: string, options: SqliteOpenOptions = {}): Promise<SqliteStateStore> {
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
  const store = new SqliteStateStore(db, where);
  try {
    await store.migrate();
  } catch (e) {
    db.close();
    throw e;
  }
  return store;
}

export class SqliteStateStore implements StateStore {
  readonly kind = 'sqlite' as const;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private closed = false;

  constructor(
    private readonly db: Db,
    /** For error messages: the redacted URL. */
    private readonly where: string,
  ) {}

  // better-sqlite3 is synchronous; async methods keep the interface shared with PostgreSQL and turn every
  // driver error into a rejected promise with code E_STATE.
  private async op<T>(name: string, fn: () => T): Promise<T> {
    if (this.closed) throw closedError();
    try {
      return fn();
    } catch (e) {
      throw stateError(name, this.where, e);
    }
  }

  private sql(text: string): BetterSqlite3.Statement {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  async migrate(): Promise<void> {
    await this.op('migrate', () => {
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
      );
      for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
        // BEGIN IMMEDIATE takes the write lock first, so a second process starting at the same time waits
        // (busy_timeout) and then sees the version as applied instead of running it twice.
        this.db
          .transaction(() => {
            const done = this.db.prepare(`SELECT 1 FROM ${MIGRATIONS_TABLE} WHERE version = ?`).get(m.version);
            if (done) return;
            this.db.exec(m.sqlite);
            this.db
              .prepare(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`)
              .run(m.version, m.name, Date.now());
          })
          .immediate();
      }
    });
  }

  async claim(job: string, slot: Date, options: ClaimOptions): Promise<ClaimResult> {
    const slotMs = checkDate('slot', slot);
    const now = checkDate('now', options.now);
    const params = {
      job,
      slot: slotMs,
      owner: options.owner,
      now,
      lease: now + options.leaseMs,
      force: options.force ? 1 : 0,
      retryFailed: options.retryFailed ? 1 : 0,
    };
    return this.op('claim', () =>
      this.db
        .transaction((): ClaimResult => {
          const inserted = this.sql(
            `INSERT INTO digest_runs (id, job, slot, status, owner, lease_until, attempts, started_at)
             VALUES (@id, @job, @slot, 'running', @owner, @lease, 1, @now)
             ON CONFLICT (job, slot) DO NOTHING`,
          ).run({ ...params, id: newRunId() });
          if (inserted.changes === 1) {
            return { claimed: true, run: this.loadBySeq(Number(inserted.lastInsertRowid))! };
          }
          // Inside BEGIN IMMEDIATE no other connection can write between this read and the update below.
          const prev = this.sql('SELECT seq, status FROM digest_runs WHERE job = ? AND slot = ?').get(job, slotMs) as
            | Pick<RunRow, 'seq' | 'status'>
            | undefined;
          if (!prev) throw new Error('slot row vanished inside a transaction');
          const taken = this.sql(
            `UPDATE digest_runs
                SET id = @id, owner = @owner, status = 'running', lease_until = @lease, attempts = attempts + 1,
                    started_at = @now, finished_at = NULL, reason = NULL, error = NULL, metrics = NULL
              WHERE seq = @seq
                AND ((status = 'running' AND lease_until < @now)
                  OR (@force = 1 AND status <> 'running')
                  OR (@retryFailed = 1 AND status = 'failed'))`,
          ).run({ ...params, id: newRunId(), seq: prev.seq });
          if (taken.changes === 1) {
            // A forced re-run starts from scratch; a takeover or a retry keeps what was already delivered.
            if (params.force && prev.status !== 'running') {
              this.sql('DELETE FROM digest_deliveries WHERE run_seq = ?').run(prev.seq);
            }
            return { claimed: true, run: this.loadBySeq(prev.seq)! };
          }
          return { claimed: false, run: this.loadBySeq(prev.seq)! };
        })
        .immediate(),
    );
  }

  async renewLease(runId: string, owner: string, leaseUntil: Date): Promise<boolean> {
    const until = checkDate('leaseUntil', leaseUntil);
    return this.op('renewLease', () => {
      const r = this.sql(
        `UPDATE digest_runs SET lease_until = ? WHERE id = ? AND owner = ? AND status = 'running'`,
      ).run(until, runId, owner);
      return r.changes === 1;
    });
  }

  async recordDelivery(runId: string, delivery: DeliveryRecord): Promise<void> {
    const at = checkDate('deliveredAt', delivery.deliveredAt);
    const changed = await this.op('recordDelivery', () => {
      const r = this.sql(
        `INSERT INTO digest_deliveries (run_seq, key, message_id, chat_id, url, delivered_at)
         SELECT seq, @key, @messageId, @chatId, @url, @at FROM digest_runs WHERE id = @runId
         ON CONFLICT (run_seq, key) DO NOTHING`,
      ).run({
        runId,
        key: delivery.key,
        messageId: delivery.messageId,
        chatId: delivery.chatId,
        url: delivery.url,
        at,
      });
      return r.changes === 1 || this.sql('SELECT 1 FROM digest_runs WHERE id = ?').get(runId) !== undefined;
    });
    if (!changed) throw unknownRunError('record a delivery', runId);
  }

  async recordDeliveries(runId: string, deliveries: readonly DeliveryRecord[]): Promise<void> {
    if (deliveries.length === 0) return;
    const rows = deliveries.map((d) => ({ runId, key: d.key, messageId: d.messageId, chatId: d.chatId, url: d.url, at: checkDate('deliveredAt', d.deliveredAt) }));
    const known = await this.op('recordDeliveries', () =>
      this.db.transaction(() => {
        if (this.sql('SELECT 1 FROM digest_runs WHERE id = ?').get(runId) === undefined) return false;
        const insert = this.sql(
          `INSERT INTO digest_deliveries (run_seq, key, message_id, chat_id, url, delivered_at)
           SELECT seq, @key, @messageId, @chatId, @url, @at FROM digest_runs WHERE id = @runId
           ON CONFLICT (run_seq, key) DO NOTHING`,
        );
        for (const row of rows) insert.run(row);
        return true;
      })(),
    );
    if (!known) throw unknownRunError('record deliveries', runId);
  }

  async finish(runId: string, options: FinishOptions): Promise<void> {
    const now = checkDate('now', options.now);
    const ok = await this.op('finish', () => {
      const r = this.sql(
        `UPDATE digest_runs SET status = @status, finished_at = @now, reason = @reason, error = @error, metrics = @metrics
          WHERE id = @runId AND status = 'running'`,
      ).run({
        runId,
        status: options.status,
        now,
        reason: options.reason ?? null,
        error: toJson(options.error),
        metrics: toJson(options.metrics),
      });
      if (r.changes === 1) return true;
      // Finishing twice with the same outcome (a retried call) is harmless.
      const row = this.sql('SELECT status FROM digest_runs WHERE id = ?').get(runId) as { status: RunStatus } | undefined;
      return row?.status === options.status;
    });
    if (!ok) throw unknownRunError('finish', runId);
  }

  async getRun(job: string, slot: Date): Promise<RunRecord | null> {
    const slotMs = checkDate('slot', slot);
    return this.op('getRun', () => this.one('SELECT * FROM digest_runs WHERE job = ? AND slot = ?', job, slotMs));
  }

  async lastSuccess(job: string, before?: Date): Promise<RunRecord | null> {
    const beforeMs = before === undefined ? null : checkDate('before', before);
    return this.op('lastSuccess', () =>
      this.one(
        `SELECT * FROM digest_runs WHERE job = @job AND status = 'succeeded' AND (@before IS NULL OR slot < @before)
          ORDER BY slot DESC LIMIT 1`,
        { job, before: beforeMs },
      ),
    );
  }

  async lastRun(job: string): Promise<RunRecord | null> {
    return this.op('lastRun', () => this.one('SELECT * FROM digest_runs WHERE job = ? ORDER BY slot DESC LIMIT 1', job));
  }

  async history(options: { job?: string; limit: number }): Promise<RunRecord[]> {
    const limit = Math.max(0, Math.floor(options.limit));
    return this.op('history', () => {
      const rows = (
        options.job === undefined
          ? this.sql('SELECT * FROM digest_runs ORDER BY slot DESC, seq DESC LIMIT ?').all(limit)
          : this.sql('SELECT * FROM digest_runs WHERE job = ? ORDER BY slot DESC, seq DESC LIMIT ?').all(options.job, limit)
      ) as RunRow[];
      return this.withDeliveries(rows);
    });
  }

  async consecutiveFailures(job: string): Promise<number> {
    return this.op('consecutiveFailures', () => {
      const row = this.sql(
        `SELECT count(*) AS n FROM digest_runs
          WHERE job = @job AND status = 'failed'
            AND slot > coalesce((SELECT max(slot) FROM digest_runs WHERE job = @job AND status = 'succeeded'), -9e18)`,
      ).get({ job }) as { n: number };
      return row.n;
    });
  }

  async getFlag(key: string): Promise<string | null> {
    return this.op('getFlag', () => {
      const row = this.sql('SELECT value FROM digest_flags WHERE key = ?').get(key) as { value: string } | undefined;
      return row?.value ?? null;
    });
  }

  async setFlag(key: string, value: string | null): Promise<void> {
    await this.op('setFlag', () => {
      if (value === null) this.sql('DELETE FROM digest_flags WHERE key = ?').run(key);
      else
        this.sql(
          `INSERT INTO digest_flags (key, value, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        ).run(key, value, Date.now());
    });
  }

  async prune(options: { keepRuns: number; olderThan: Date }): Promise<number> {
    const olderThan = checkDate('olderThan', options.olderThan);
    const keep = Math.max(0, Math.floor(options.keepRuns));
    return this.op('prune', () => {
      const r = this.sql(PRUNE_SQLITE).run({ keep, olderThan });
      return r.changes;
    });
  }

  async ping(): Promise<void> {
    await this.op('ping', () => this.sql('SELECT 1').get());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.db.close();
  }

  private one(sql: string, ...params: unknown[]): RunRecord | null {
    const row = this.sql(sql).get(...params) as RunRow | undefined;
    return row ? this.withDeliveries([row])[0]! : null;
  }

  private loadBySeq(seq: number): RunRecord | null {
    return this.one('SELECT * FROM digest_runs WHERE seq = ?', seq);
  }

  private withDeliveries(rows: RunRow[]): RunRecord[] {
    if (rows.length === 0) return [];
    const deliveries = this.sql(
      'SELECT * FROM digest_deliveries WHERE run_seq IN (SELECT value FROM json_each(?)) ORDER BY delivered_at, key',
    ).all(JSON.stringify(rows.map((r) => r.seq))) as DeliveryRow[];
    const bySeq = new Map<number, DeliveryRecord[]>();
    for (const d of deliveries) {
      let list = bySeq.get(d.run_seq);
      if (!list) bySeq.set(d.run_seq, (list = []));
      list.push({
        key: d.key,
        messageId: d.message_id,
        chatId: d.chat_id,
        url: d.url,
        deliveredAt: new Date(d.delivered_at),
      });
    }
    return rows.map((r) => toRecord(r, sortDeliveries(bySeq.get(r.seq) ?? [])));
  }
}

/**
 * Per job: drop finished runs beyond the newest `keep` or with a slot older than `olderThan`, but never a running
 * run and never the job's newest success (it is the next run's `previous`). Deliveries go with their run (FK cascade).
 */
const PRUNE_SQLITE = `
  DELETE FROM digest_runs WHERE seq IN (
    SELECT seq FROM (
      SELECT seq, status, slot,
             row_number() OVER (PARTITION BY job ORDER BY slot DESC) AS rn,
             max(CASE WHEN status = 'succeeded' THEN slot END) OVER (PARTITION BY job) AS last_ok
        FROM digest_runs
    ) AS ranked
    WHERE status <> 'running'
      AND NOT (status = 'succeeded' AND slot = last_ok)
      AND (rn > @keep OR slot < @olderThan)
  )`;

function toRecord(r: RunRow, deliveries: DeliveryRecord[]): RunRecord {
  return {
    id: r.id,
    job: r.job,
    slot: new Date(r.slot),
    status: r.status,
    owner: r.owner,
    leaseUntil: new Date(r.lease_until),
    attempts: r.attempts,
    startedAt: new Date(r.started_at),
    finishedAt: r.finished_at === null ? null : new Date(r.finished_at),
    reason: r.reason,
    error: parseJson(r.error) as RunRecord['error'],
    metrics: parseJson(r.metrics),
    deliveries,
  };
}
