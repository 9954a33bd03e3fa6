import type { Pool, PoolClient } from 'pg';
import { DigestError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { STATE_DEFAULTS } from './defaults.js';
import { MIGRATIONS, MIGRATIONS_TABLE } from './migrations.js';
import { checkDate, closedError, newRunId, sortDeliveries, stateError, toJson, unknownRunError } from './shared.js';
import type {
  ClaimOptions,
  ClaimResult,
  DeliveryRecord,
  FinishOptions,
  RunRecord,
  RunStatus,
  StateStore,
} from './types.js';

interface RunRow {
  seq: string; // bigint arrives as a string; only ever passed back as a parameter
  id: string;
  job: string;
  slot: Date;
  status: RunStatus;
  owner: string;
  lease_until: Date;
  attempts: number;
  started_at: Date;
  finished_at: Date | null;
  reason: string | null;
  error: RunRecord['error'];
  metrics: unknown;
}

interface DeliveryRow {
  run_seq: string;
  key: string;
  message_id: string;
  chat_id: string | null;
  url: string | null;
  delivered_at: Date;
}

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
export async function openPostgresStateStore(options: PostgresOpenOptions): Promise<PostgresStateStore> {
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
  const store = new PostgresStateStore(pool, options.where, options.schema);
  try {
    await store.migrate();
  } catch (e) {
    await pool.end().catch(() => {});
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

export class PostgresStateStore implements StateStore {
  readonly kind = 'postgres' as const;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly where: string,
    private readonly schema: string | null,
  ) {}

  private async op<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw closedError();
    try {
      return await fn();
    } catch (e) {
      throw stateError(name, this.where, e);
    }
  }

  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  async migrate(): Promise<void> {
    await this.op('migrate', async () => {
      const client = await this.pool.connect();
      let broken = false;
      try {
        // A session advisory lock serializes replicas starting at once: the second one waits here, then finds
        // every version applied. DDL below (CREATE SCHEMA/TABLE) is not safe to race without it.
        await client.query('SELECT pg_advisory_lock($1)', [STATE_DEFAULTS.postgres.migrationLockKey]);
        try {
          if (this.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
          await client.query(
            `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
          );
          const applied = new Set(
            (await client.query<{ version: number }>(`SELECT version FROM ${MIGRATIONS_TABLE}`)).rows.map((r) => r.version),
          );
          for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
            if (applied.has(m.version)) continue;
            await client.query('BEGIN');
            try {
              await client.query(m.postgres);
              await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
              await client.query('COMMIT');
            } catch (e) {
              await client.query('ROLLBACK').catch(() => {});
              throw new DigestError('E_STATE', `run ledger (${this.where}): migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, {
                cause: e,
                hint: 'the database user needs CREATE rights on the database/schema; nothing of this migration was applied',
              });
            }
          }
        } finally {
          await client
            .query('SELECT pg_advisory_unlock($1)', [STATE_DEFAULTS.postgres.migrationLockKey])
            .catch(() => (broken = true));
        }
      } finally {
        // A connection that may still hold the session lock must not go back to the pool.
        client.release(broken);
      }
    });
  }

  async claim(job: string, slot: Date, options: ClaimOptions): Promise<ClaimResult> {
    checkDate('slot', slot);
    const nowMs = checkDate('now', options.now);
    const lease = new Date(nowMs + options.leaseMs);
    return this.op('claim', () =>
      this.tx(async (c): Promise<ClaimResult> => {
        // A concurrent insert of the same (job, slot) makes this wait for the other transaction, then do nothing.
        const inserted = await c.query<{ seq: string }>(
          `INSERT INTO digest_runs (id, job, slot, status, owner, lease_until, attempts, started_at)
           VALUES ($1, $2, $3, 'running', $4, $5, 1, $6)
           ON CONFLICT (job, slot) DO NOTHING RETURNING seq`,
          [newRunId(), job, slot, options.owner, lease, options.now],
        );
        if (inserted.rows[0]) return { claimed: true, run: (await this.loadBySeq(c, inserted.rows[0].seq))! };
        // The row lock makes the decision below and the update one atomic step for every other claimer.
        const prev = (
          await c.query<{ seq: string; status: RunStatus }>(
            'SELECT seq, status FROM digest_runs WHERE job = $1 AND slot = $2 FOR UPDATE',
            [job, slot],
          )
        ).rows[0];
        if (!prev) throw new Error('slot row vanished inside a transaction');
        const taken = await c.query(
          `UPDATE digest_runs
              SET id = $2, owner = $3, status = 'running', lease_until = $4, attempts = attempts + 1,
                  started_at = $5, finished_at = NULL, reason = NULL, error = NULL, metrics = NULL
            WHERE seq = $1
              AND ((status = 'running' AND lease_until < $5)
                OR ($6 AND status <> 'running')
                OR ($7 AND status = 'failed'))`,
          [prev.seq, newRunId(), options.owner, lease, options.now, !!options.force, !!options.retryFailed],
        );
        if (taken.rowCount === 1) {
          // A forced re-run starts from scratch; a takeover or a retry keeps what was already delivered.
          if (options.force && prev.status !== 'running') {
            await c.query('DELETE FROM digest_deliveries WHERE run_seq = $1', [prev.seq]);
          }
          return { claimed: true, run: (await this.loadBySeq(c, prev.seq))! };
        }
        return { claimed: false, run: (await this.loadBySeq(c, prev.seq))! };
      }),
    );
  }

  async renewLease(runId: string, owner: string, leaseUntil: Date): Promise<boolean> {
    checkDate('leaseUntil', leaseUntil);
    return this.op('renewLease', async () => {
      const r = await this.pool.query(
        `UPDATE digest_runs SET lease_until = $3 WHERE id = $1 AND owner = $2 AND status = 'running'`,
        [runId, owner, leaseUntil],
      );
      return r.rowCount === 1;
    });
  }

  async recordDelivery(runId: string, delivery: DeliveryRecord): Promise<void> {
    checkDate('deliveredAt', delivery.deliveredAt);
    const ok = await this.op('recordDelivery', async () => {
      const r = await this.pool.query(
        `INSERT INTO digest_deliveries (run_seq, key, message_id, chat_id, url, delivered_at)
         SELECT seq, $2, $3, $4, $5, $6 FROM digest_runs WHERE id = $1
         ON CONFLICT (run_seq, key) DO NOTHING`,
        [runId, delivery.key, delivery.messageId, delivery.chatId, delivery.url, delivery.deliveredAt],
      );
      if (r.rowCount === 1) return true;
      return (await this.pool.query('SELECT 1 FROM digest_runs WHERE id = $1', [runId])).rowCount === 1;
    });
    if (!ok) throw unknownRunError('record a delivery', runId);
  }

  async recordDeliveries(runId: string, deliveries: readonly DeliveryRecord[]): Promise<void> {
    if (deliveries.length === 0) return;
    for (const d of deliveries) checkDate('deliveredAt', d.deliveredAt);
    // One statement is one transaction: the batch lands whole or not at all.
    const ok = await this.op('recordDeliveries', async () => {
      const r = await this.pool.query(
        `WITH run AS (SELECT seq FROM digest_runs WHERE id = $1),
              ins AS (
                INSERT INTO digest_deliveries (run_seq, key, message_id, chat_id, url, delivered_at)
                SELECT run.seq, d.key, d.message_id, d.chat_id, d.url, d.delivered_at
                  FROM run, unnest($2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::timestamptz[])
                       AS d(key, message_id, chat_id, url, delivered_at)
                ON CONFLICT (run_seq, key) DO NOTHING
                RETURNING 1)
         SELECT (SELECT count(*) FROM run) AS known`,
        [
          runId,
          deliveries.map((d) => d.key),
          deliveries.map((d) => d.messageId),
          deliveries.map((d) => d.chatId),
          deliveries.map((d) => d.url),
          deliveries.map((d) => d.deliveredAt),
        ],
      );
      return Number((r.rows[0] as { known: string | number }).known) === 1;
    });
    if (!ok) throw unknownRunError('record deliveries', runId);
  }

  async finish(runId: string, options: FinishOptions): Promise<void> {
    checkDate('now', options.now);
    const ok = await this.op('finish', async () => {
      const r = await this.pool.query(
        `UPDATE digest_runs SET status = $2, finished_at = $3, reason = $4, error = $5::jsonb, metrics = $6::jsonb
          WHERE id = $1 AND status = 'running'`,
        [runId, options.status, options.now, options.reason ?? null, toJson(options.error), toJson(options.metrics)],
      );
      if (r.rowCount === 1) return true;
      // Finishing twice with the same outcome (a retried call) is harmless.
      const row = (await this.pool.query<{ status: RunStatus }>('SELECT status FROM digest_runs WHERE id = $1', [runId])).rows[0];
      return row?.status === options.status;
    });
    if (!ok) throw unknownRunError('finish', runId);
  }

  async getRun(job: string, slot: Date): Promise<RunRecord | null> {
    checkDate('slot', slot);
    return this.op('getRun', () => this.one(this.pool, 'SELECT * FROM digest_runs WHERE job = $1 AND slot = $2', [job, slot]));
  }

  async lastSuccess(job: string, before?: Date): Promise<RunRecord | null> {
    if (before !== undefined) checkDate('before', before);
    return this.op('lastSuccess', () =>
      this.one(
        this.pool,
        `SELECT * FROM digest_runs WHERE job = $1 AND status = 'succeeded' AND ($2::timestamptz IS NULL OR slot < $2)
          ORDER BY slot DESC LIMIT 1`,
        [job, before ?? null],
      ),
    );
  }

  async lastRun(job: string): Promise<RunRecord | null> {
    return this.op('lastRun', () =>
      this.one(this.pool, 'SELECT * FROM digest_runs WHERE job = $1 ORDER BY slot DESC LIMIT 1', [job]),
    );
  }

  async history(options: { job?: string; limit: number }): Promise<RunRecord[]> {
    const limit = Math.max(0, Math.floor(options.limit));
    return this.op('history', async () => {
      const r =
        options.job === undefined
          ? await this.pool.query<RunRow>('SELECT * FROM digest_runs ORDER BY slot DESC, seq DESC LIMIT $1', [limit])
          : await this.pool.query<RunRow>('SELECT * FROM digest_runs WHERE job = $1 ORDER BY slot DESC, seq DESC LIMIT $2', [
              options.job,
              limit,
            ]);
      return this.withDeliveries(this.pool, r.rows);
    });
  }

  async consecutiveFailures(job: string): Promise<number> {
    return this.op('consecutiveFailures', async () => {
      const r = await this.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM digest_runs
          WHERE job = $1 AND status = 'failed'
            AND slot > coalesce((SELECT max(slot) FROM digest_runs WHERE job = $1 AND status = 'succeeded'), '-infinity')`,
        [job],
      );
      return r.rows[0]!.n;
    });
  }

  async getFlag(key: string): Promise<string | null> {
    return this.op('getFlag', async () => {
      const r = await this.pool.query<{ value: string }>('SELECT value FROM digest_flags WHERE key = $1', [key]);
      return r.rows[0]?.value ?? null;
    });
  }

  async setFlag(key: string, value: string | null): Promise<void> {
    await this.op('setFlag', async () => {
      if (value === null) await this.pool.query('DELETE FROM digest_flags WHERE key = $1', [key]);
      else
        await this.pool.query(
          `INSERT INTO digest_flags (key, value, updated_at) VALUES ($1, $2, now())
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
          [key, value],
        );
    });
  }

  async prune(options: { keepRuns: number; olderThan: Date }): Promise<number> {
    checkDate('olderThan', options.olderThan);
    const keep = Math.max(0, Math.floor(options.keepRuns));
    return this.op('prune', async () => {
      const r = await this.pool.query(PRUNE_POSTGRES, [keep, options.olderThan]);
      return r.rowCount ?? 0;
    });
  }

  async ping(): Promise<void> {
    await this.op('ping', () => this.pool.query('SELECT 1'));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async one(q: Pool | PoolClient, sql: string, params: unknown[]): Promise<RunRecord | null> {
    const r = await q.query<RunRow>(sql, params);
    return r.rows[0] ? (await this.withDeliveries(q, r.rows))[0]! : null;
  }

  private loadBySeq(q: PoolClient, seq: string): Promise<RunRecord | null> {
    return this.one(q, 'SELECT * FROM digest_runs WHERE seq = $1', [seq]);
  }

  private async withDeliveries(q: Pool | PoolClient, rows: RunRow[]): Promise<RunRecord[]> {
    if (rows.length === 0) return [];
    const r = await q.query<DeliveryRow>(
      'SELECT * FROM digest_deliveries WHERE run_seq = ANY($1::bigint[]) ORDER BY delivered_at, key',
      [rows.map((row) => row.seq)],
    );
    const bySeq = new Map<string, DeliveryRecord[]>();
    for (const d of r.rows) {
      let list = bySeq.get(d.run_seq);
      if (!list) bySeq.set(d.run_seq, (list = []));
      list.push({
        key: d.key,
        messageId: Number(d.message_id),
        chatId: d.chat_id === null ? null : Number(d.chat_id),
        url: d.url,
        deliveredAt: d.delivered_at,
      });
    }
    return rows.map((row) => toRecord(row, sortDeliveries(bySeq.get(row.seq) ?? [])));
  }
}

/** Same rules as the SQLite version (see there). */
const PRUNE_POSTGRES = `
  DELETE FROM digest_runs WHERE seq IN (
    SELECT seq FROM (
      SELECT seq, status, slot,
             row_number() OVER (PARTITION BY job ORDER BY slot DESC) AS rn,
             max(CASE WHEN status = 'succeeded' THEN slot END) OVER (PARTITION BY job) AS last_ok
        FROM digest_runs
    ) AS ranked
    WHERE status <> 'running'
      AND NOT (status = 'succeeded' AND slot = last_ok)
      AND (rn > $1 OR slot < $2)
  )`;

function toRecord(r: RunRow, deliveries: DeliveryRecord[]): RunRecord {
  return {
    id: r.id,
    job: r.job,
    slot: r.slot,
    status: r.status,
    owner: r.owner,
    leaseUntil: r.lease_until,
    attempts: r.attempts,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    reason: r.reason,
    error: r.error,
    metrics: r.metrics,
    deliveries,
  };
}
