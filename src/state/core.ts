/**
 * The run ledger's algorithms, written once over a SqlDriver (driver.ts). sqlite.ts and postgres.ts only open a
 * connection and adapt statements; every rule about claims, takeovers, retention and schema versions lives here
 * (retention's SQL in retention.ts, the reading of run rows in run-rows.ts).
 * Features that need their own tables (event dedupe, monitors, replicas) add a migration to migrations.ts and
 * methods that use `this.db` the same way.
 */
import { DigestError } from '../errors.js';
import { toDate, type SqlDriver, type SqlExecutor } from './driver.js';
import { LATEST_VERSION, MIGRATIONS, MIGRATIONS_TABLE, migrationsTableDdl } from './migrations.js';
import { checkDate, closedError, newRunId, stateError, toJson, unknownRunError } from './shared.js';
import { interactionLedger, type InteractionLedger } from './interactions.js';
import { fanoutLedger, type FanoutLedger } from './fanout.js';
import type { ClaimOptions, ClaimResult, DeliveryRecord, FinishOptions, RunRecord, ReplicaState, RunStatus, StateStore } from './types.js';
import { RUN_COLUMNS, loadBySeq, one, withDeliveries, type RunRow } from './run-rows.js';
import { PRUNE, PRUNED_KEY, prunedUpTo, refusePruned } from './retention.js';


export class LedgerStore implements StateStore {
  private closed = false;
  readonly interactions: InteractionLedger = interactionLedger({
    run: (sql, params) =>
      this.op('interactions', async () => {
        const r = await this.db.query<Record<string, unknown>>(sql, params);
        return { rows: r.rows, changes: r.rowCount };
      }),
  });

  readonly fanout: FanoutLedger;

  constructor(protected readonly db: SqlDriver) {
    this.fanout = fanoutLedger(db, (name, fn) => this.op(name, fn));
  }

  get kind(): 'sqlite' | 'postgres' {
    return this.db.dialect;
  }

  /** Every driver error becomes E_STATE naming the operation; a closed store refuses work. */
  protected async op<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw closedError();
    try {
      return await fn();
    } catch (e) {
      throw stateError(name, this.db.where, e);
    }
  }

  async migrate(): Promise<void> {
    await this.op('migrate', () =>
      this.db.exclusive(async (s) => {
        await s.exec(migrationsTableDdl(this.db.dialect));
        const applied = await appliedVersions(s);
        const newest = Math.max(0, ...applied);
        if (newest > LATEST_VERSION) throw newerSchemaError(this.db.where, newest);
        for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
          if (applied.has(m.version)) continue;
          try {
            await s.transaction(async (tx) => {
              // Re-checked under the write lock: another process may have applied it while we waited.
              if ((await appliedVersions(tx)).has(m.version)) return;
              await tx.exec(m[this.db.dialect]);
              await tx.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES ($1, $2, $3)`, [
                m.version,
                m.name,
                new Date(),
              ]);
            });
          } catch (e) {
            throw new DigestError('E_STATE', `run ledger (${this.db.where}): migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, {
              cause: e,
              hint: 'the database user needs CREATE rights on the database/schema; nothing of this migration was applied',
            });
          }
        }
      }),
    );
  }

  async claim(job: string, slot: Date, options: ClaimOptions): Promise<ClaimResult> {
    checkDate('slot', slot);
    const nowMs = checkDate('now', options.now);
    const lease = new Date(nowMs + options.leaseMs);
    return this.op('claim', () =>
      this.db.transaction(async (tx): Promise<ClaimResult> => {
        if (!options.force) await refusePruned(tx, job, slot);
        // PostgreSQL: a concurrent insert of the same (job, slot) makes this wait for the other transaction.
        const inserted = await tx.query<{ seq: number | string }>(
          `INSERT INTO digest_runs (id, job, slot, status, owner, lease_until, attempts, started_at)
           VALUES ($1, $2, $3, 'running', $4, $5, 1, $6)
           ON CONFLICT (job, slot) DO NOTHING RETURNING seq`,
          [newRunId(), job, slot, options.owner, lease, options.now],
        );
        if (inserted.rows[0]) return { claimed: true, run: (await loadBySeq(tx, inserted.rows[0].seq))! };
        // The decision below and the update are one atomic step for every other claimer (row lock / BEGIN IMMEDIATE).
        const prev = (
          await tx.query<{ seq: number | string; status: RunStatus }>(
            `SELECT seq, status FROM digest_runs WHERE job = $1 AND slot = $2${this.db.lockRows}`,
            [job, slot],
          )
        ).rows[0];
        if (!prev) throw new Error('slot row vanished inside a transaction');
        const taken = await tx.query(
          `UPDATE digest_runs
              SET id = $2, owner = $3, status = 'running', lease_until = $4, attempts = attempts + 1,
                  started_at = $5, finished_at = NULL, reason = NULL, error = NULL, metrics = NULL,
                  forced_at = CASE WHEN $6 = 1 AND status <> 'running' THEN $5 ELSE forced_at END
            WHERE seq = $1
              AND ((status = 'running' AND lease_until < $5)
                OR status = 'interrupted'
                OR ($6 = 1 AND status <> 'running')
                OR ($7 = 1 AND status = 'failed'))`,
          [prev.seq, newRunId(), options.owner, lease, options.now, options.force ? 1 : 0, options.retryFailed ? 1 : 0],
        );
        if (taken.rowCount === 1) {
          // A forced re-run starts from scratch (and says since when, for the takeover of it: forced_at);
          // a takeover or a retry keeps what was already delivered.
          if (options.force && prev.status !== 'running') {
            await tx.query('DELETE FROM digest_deliveries WHERE run_seq = $1', [prev.seq]);
          }
          return { claimed: true, run: (await loadBySeq(tx, prev.seq))! };
        }
        return { claimed: false, run: (await loadBySeq(tx, prev.seq))! };
      }),
    );
  }

  async renewLease(runId: string, owner: string, leaseUntil: Date): Promise<boolean> {
    checkDate('leaseUntil', leaseUntil);
    return this.op('renewLease', async () => {
      const r = await this.db.query(`UPDATE digest_runs SET lease_until = $3 WHERE id = $1 AND owner = $2 AND status = 'running'`, [
        runId,
        owner,
        leaseUntil,
      ]);
      return r.rowCount === 1;
    });
  }

  async recordDelivery(runId: string, delivery: DeliveryRecord): Promise<void> {
    checkDate('deliveredAt', delivery.deliveredAt);
    const ok = await this.op('recordDelivery', async () => {
      const r = await this.db.query(
        `INSERT INTO digest_deliveries (run_seq, key, message_id, chat_id, url, delivered_at, files)
         SELECT seq, $2, $3, $4, $5, $6, $7 FROM digest_runs WHERE id = $1
         ON CONFLICT (run_seq, key) DO NOTHING`,
        [runId, delivery.key, delivery.messageId, delivery.chatId, delivery.url, delivery.deliveredAt, delivery.files?.length ? toJson(delivery.files) : null],
      );
      if (r.rowCount === 1) return true;
      return (await this.db.query('SELECT 1 AS one FROM digest_runs WHERE id = $1', [runId])).rows.length === 1;
    });
    if (!ok) throw unknownRunError('record a delivery', runId);
  }

  async recordDeliveries(runId: string, deliveries: readonly DeliveryRecord[]): Promise<void> {
    if (deliveries.length === 0) return;
    for (const d of deliveries) checkDate('deliveredAt', d.deliveredAt);
    // One transaction per batch: a fan-out of thousands commits once per batch, not once per message.
    const ok = await this.op('recordDeliveries', () =>
      this.db.transaction(async (tx) => {
        if ((await tx.query('SELECT 1 AS one FROM digest_runs WHERE id = $1', [runId])).rows.length !== 1) return false;
        for (const d of deliveries) {
          await tx.query(
            `INSERT INTO digest_deliveries (run_seq, key, message_id, chat_id, url, delivered_at, files)
             SELECT seq, $2, $3, $4, $5, $6, $7 FROM digest_runs WHERE id = $1
             ON CONFLICT (run_seq, key) DO NOTHING`,
            [runId, d.key, d.messageId, d.chatId, d.url, d.deliveredAt, d.files?.length ? toJson(d.files) : null],
          );
        }
        return true;
      }),
    );
    if (!ok) throw unknownRunError('record deliveries', runId);
  }

  async finish(runId: string, options: FinishOptions): Promise<void> {
    checkDate('now', options.now);
    const ok = await this.op('finish', () =>
      this.db.transaction(async (tx) => {
        const r = await tx.query(
          `UPDATE digest_runs SET status = $2, finished_at = $3, reason = $4, error = $5, metrics = $6
            WHERE id = $1 AND status = 'running'`,
          [runId, options.status, options.now, options.reason ?? null, toJson(options.error), toJson(options.metrics)],
        );
        if (r.rowCount === 1) {
          // Only the newest success's metrics are ever read (`previous`); older snapshots would grow the ledger
          // by the size of the data on every run.
          if (options.status === 'succeeded' && options.metrics !== undefined && options.metrics !== null) {
            await tx.query(
              `UPDATE digest_runs SET metrics = NULL
                WHERE job = (SELECT job FROM digest_runs WHERE id = $1) AND metrics IS NOT NULL
                  AND slot < (SELECT max(slot) FROM digest_runs
                               WHERE job = (SELECT job FROM digest_runs WHERE id = $1) AND status = 'succeeded')`,
              [runId],
            );
          }
          return true;
        }
        // Finishing twice with the same outcome (a retried call) is harmless.
        const row = (await tx.query<{ status: RunStatus }>('SELECT status FROM digest_runs WHERE id = $1', [runId])).rows[0];
        return row?.status === options.status;
      }),
    );
    if (!ok) throw unknownRunError('finish', runId);
  }

  async getRun(job: string, slot: Date): Promise<RunRecord | null> {
    checkDate('slot', slot);
    return this.op('getRun', () => one(this.db, `SELECT ${RUN_COLUMNS} FROM digest_runs WHERE job = $1 AND slot = $2`, [job, slot]));
  }

  async lastSuccess(job: string, before?: Date): Promise<RunRecord | null> {
    if (before !== undefined) checkDate('before', before);
    return this.op('lastSuccess', () =>
      before === undefined
        ? one(this.db, `SELECT ${RUN_COLUMNS} FROM digest_runs WHERE job = $1 AND status = 'succeeded' ORDER BY slot DESC LIMIT 1`, [job])
        : one(
            this.db,
            `SELECT ${RUN_COLUMNS} FROM digest_runs WHERE job = $1 AND status = 'succeeded' AND slot < $2 ORDER BY slot DESC LIMIT 1`,
            [job, before],
          ),
    );
  }

  async lastRun(job: string): Promise<RunRecord | null> {
    return this.op('lastRun', () => one(this.db, `SELECT ${RUN_COLUMNS} FROM digest_runs WHERE job = $1 ORDER BY slot DESC LIMIT 1`, [job]));
  }

  async history(options: { job?: string; limit: number }): Promise<RunRecord[]> {
    const limit = Math.max(0, Math.floor(options.limit));
    return this.op('history', async () => {
      const r =
        options.job === undefined
          ? await this.db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM digest_runs ORDER BY slot DESC, seq DESC LIMIT $1`, [limit])
          : await this.db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM digest_runs WHERE job = $1 ORDER BY slot DESC, seq DESC LIMIT $2`, [
              options.job,
              limit,
            ]);
      return withDeliveries(this.db, r.rows);
    });
  }

  async consecutiveFailures(job: string): Promise<number> {
    return this.op('consecutiveFailures', async () => {
      const r = await this.db.query<{ n: number | string }>(
        `SELECT CAST(count(*) AS INTEGER) AS n FROM digest_runs f
          WHERE f.job = $1 AND f.status = 'failed'
            AND NOT EXISTS (SELECT 1 FROM digest_runs s WHERE s.job = $1 AND s.status = 'succeeded' AND s.slot > f.slot)`,
        [job],
      );
      return Number(r.rows[0]!.n);
    });
  }

  async replicaBeat(group: string, owner: string, state: ReplicaState, now: Date, ttlMs: number): Promise<{ active: number; alive: number }> {
    return this.op('replicaBeat', async () => {
      const prefix = `${REPLICA_KEY}${group}:`;
      await this.db.query(SET_FLAG, [prefix + owner, state, now]);
      // A process that died leaves its row: it stops counting after ttlMs and is removed much later.
      await this.db.query(`DELETE FROM digest_flags WHERE key LIKE $1 AND updated_at < $2`, [`${REPLICA_KEY}%`, new Date(now.getTime() - 100 * ttlMs)]);
      const r = await this.db.query<{ value: string; n: number | string }>(
        `SELECT value, count(*) AS n FROM digest_flags WHERE key LIKE $1 AND updated_at >= $2 AND value IN ('active', 'idle') GROUP BY value`,
        [`${prefix}%`, new Date(now.getTime() - ttlMs)],
      );
      const count = (v: string) => Number(r.rows.find((row) => row.value === v)?.n ?? 0);
      return { active: count('active'), alive: count('active') + count('idle') };
    });
  }

  async getFlag(key: string): Promise<string | null> {
    return this.op('getFlag', async () => {
      const r = await this.db.query<{ value: string }>('SELECT value FROM digest_flags WHERE key = $1', [key]);
      return r.rows[0]?.value ?? null;
    });
  }

  async setFlag(key: string, value: string | null): Promise<void> {
    await this.op('setFlag', async () => {
      if (value === null) await this.db.query('DELETE FROM digest_flags WHERE key = $1', [key]);
      else
        await this.db.query(SET_FLAG, [key, value, new Date()]);
    });
  }

  async prune(options: { keepRuns: number; olderThan: Date }): Promise<number> {
    checkDate('olderThan', options.olderThan);
    const keep = Math.max(1, Math.floor(options.keepRuns));
    return this.op('prune', () =>
      this.db.transaction(async (tx) => {
        const gone = await tx.query<{ job: string; slot: Date | number }>(PRUNE, [keep, options.olderThan]);
        const upTo = new Map<string, number>();
        for (const r of gone.rows) upTo.set(r.job, Math.max(upTo.get(r.job) ?? -Infinity, toDate(r.slot).getTime()));
        for (const [job, slotMs] of upTo) {
          const before = await prunedUpTo(tx, job);
          if (before !== null && before >= slotMs) continue;
          await tx.query(SET_FLAG, [PRUNED_KEY + job, String(slotMs), new Date()]);
        }
        return gone.rows.length;
      }),
    );
  }

  async ping(): Promise<void> {
    await this.op('ping', () => this.db.query('SELECT 1 AS one'));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }
}

/** `replica:<group>:<owner>` rows: processes sharing one token's budget (see replicaBeat). */
const REPLICA_KEY = 'replica:';
/** A flag's new value ($1 key, $2 value, $3 time): the one upsert every flag writer uses. */
const SET_FLAG = `INSERT INTO digest_flags (key, value, updated_at) VALUES ($1, $2, $3)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;

async function appliedVersions(q: SqlExecutor): Promise<Set<number>> {
  const r = await q.query<{ version: number | string }>(`SELECT version FROM ${MIGRATIONS_TABLE}`);
  return new Set(r.rows.map((row) => Number(row.version)));
}

function newerSchemaError(where: string, found: number): DigestError {
  return new DigestError(
    'E_STATE',
    `run ledger (${where}) has schema version ${found}, newer than this release supports (version ${LATEST_VERSION})`,
    {
      hint:
        'a later release of pachca-digest migrated this ledger; run that release (or newer) against it. ' +
        'Using it with this one could lose or repeat digests, so nothing was run.',
    },
  );
}
