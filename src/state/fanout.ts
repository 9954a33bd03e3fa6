/**
 * A big fan-out shared by replicas, through the ledger only. The process that claimed the slot
 * publishes the run's plan (what a helper needs to render the same messages: the collected
 * metrics and the render clock) cut into chunks of fan-out items; every replica of the job that
 * finds the slot running elsewhere takes chunks with a lease, delivers them into the same run
 * (the run id is the claim token, so deliveries of a superseded claim are refused), and marks
 * them done. A helper killed mid-chunk leaves a taken chunk whose lease runs out: whoever takes
 * it next re-checks each unrecorded message ("did it land?") before posting it.
 *
 * Keyed by the run id, so a takeover (a new claim, a new id) republishes and everything of the
 * old claim stops matching. One algorithm in one dialect-neutral SQL; the drivers only say how
 * to skip rows another transaction holds (`skipLocked`).
 */
import { toDate, type SqlDriver } from './driver.js';

export interface FanoutPublish {
  /** Fan-out items (not messages: each item may go to several targets). */
  items: number;
  chunkSize: number;
  /** JSON text helpers render from. */
  plan: string;
  now: Date;
}

/** What a replica sees of a slot: its run, and whether that run's fan-out is open for helpers. */
export interface FanoutState {
  runId: string;
  status: string;
  owner: string;
  leaseUntil: Date;
  attempts: number;
  /** The run's published fan-out, when its current claim published one. */
  fanout: { items: number; chunkSize: number; chunks: number } | null;
}

export interface FanoutChunk {
  chunk: number;
  /** Items [from, to) of the fan-out list. */
  from: number;
  to: number;
  /** How many times it was taken: above 1, an earlier taker may have posted part of it. */
  takes: number;
}

export interface FanoutProgress {
  chunks: number;
  open: number;
  /** Taken, lease still running. */
  taken: number;
  /** Taken, lease over (the taker died or stalled): to be taken again. */
  expired: number;
  done: number;
  failed: number;
  /** Messages the done chunks delivered (posted or found). */
  sent: number;
  /** The first failed chunk's error. */
  error: { code: string; message: string; hint?: string } | null;
}

export interface FanoutLedger {
  /** Publish (or, after a takeover, replace) the plan of run `runId`; false when it is not the slot's running claim. */
  publish(runId: string, p: FanoutPublish): Promise<boolean>;
  state(job: string, slot: Date): Promise<FanoutState | null>;
  /** The published plan's JSON text, null when `runId` has none (any more). */
  plan(runId: string): Promise<string | null>;
  /** The next chunk nobody holds (open, or its taker's lease over), leased to `owner`; null when none. */
  take(runId: string, owner: string, leaseMs: number, now: Date): Promise<FanoutChunk | null>;
  /** False when the chunk is no longer `owner`'s (its lease ran out and another took it, or the run moved on). */
  renew(runId: string, chunk: number, owner: string, leaseUntil: Date): Promise<boolean>;
  complete(runId: string, chunk: number, owner: string, result: { sent: number; error?: { code: string; message: string; hint?: string } }): Promise<boolean>;
  progress(runId: string, now: Date): Promise<FanoutProgress>;
  /** The run no longer needs its plan (it ended): the metrics copy goes. */
  drop(runId: string): Promise<void>;
}

export const FANOUT_MIGRATION = {
  version: 5,
  name: 'fan-outs shared by replicas: published plans and leased chunks',
  sqlite: `
    CREATE TABLE digest_fanouts (
      run_seq INTEGER PRIMARY KEY REFERENCES digest_runs (seq) ON DELETE CASCADE,
      run_id TEXT NOT NULL,
      items INTEGER NOT NULL,
      chunk_size INTEGER NOT NULL,
      chunks INTEGER NOT NULL,
      plan TEXT NOT NULL,
      created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE digest_fanout_chunks (
      run_seq INTEGER NOT NULL REFERENCES digest_fanouts (run_seq) ON DELETE CASCADE,
      chunk INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('open', 'taken', 'done', 'failed')),
      owner TEXT,
      lease_until INTEGER NOT NULL DEFAULT 0,
      takes INTEGER NOT NULL DEFAULT 0,
      sent INTEGER NOT NULL DEFAULT 0,
      error TEXT,
      PRIMARY KEY (run_seq, chunk)
    ) STRICT;
  `,
  postgres: `
    CREATE TABLE digest_fanouts (
      run_seq bigint PRIMARY KEY REFERENCES digest_runs (seq) ON DELETE CASCADE,
      run_id text NOT NULL,
      items integer NOT NULL,
      chunk_size integer NOT NULL,
      chunks integer NOT NULL,
      plan text NOT NULL,
      created_at bigint NOT NULL
    );
    CREATE TABLE digest_fanout_chunks (
      run_seq bigint NOT NULL REFERENCES digest_fanouts (run_seq) ON DELETE CASCADE,
      chunk integer NOT NULL,
      status text NOT NULL CHECK (status IN ('open', 'taken', 'done', 'failed')),
      owner text,
      lease_until bigint NOT NULL DEFAULT 0,
      takes integer NOT NULL DEFAULT 0,
      sent integer NOT NULL DEFAULT 0,
      error text,
      PRIMARY KEY (run_seq, chunk)
    );
  `,
};

/** The fan-out of run `$1`, only while `$1` is its slot's running claim. */
const RUN_SEQ = `(SELECT f.run_seq FROM digest_fanouts f JOIN digest_runs r ON r.seq = f.run_seq WHERE f.run_id = $1 AND r.id = $1 AND r.status = 'running')`;
/** Chunk rows inserted per statement (two parameters each, well within both databases' limits). */
const INSERT_BATCH = 200;

export function fanoutLedger(db: SqlDriver, op: <T>(name: string, fn: () => Promise<T>) => Promise<T>): FanoutLedger {
  return {
    publish: (runId, p) =>
      op('fanout.publish', () =>
        db.transaction(async (tx) => {
          const run = (await tx.query<{ seq: number | string }>(`SELECT seq FROM digest_runs WHERE id = $1 AND status = 'running'${db.lockRows}`, [runId])).rows[0];
          if (!run) return false;
          const chunks = Math.ceil(p.items / p.chunkSize);
          await tx.query('DELETE FROM digest_fanout_chunks WHERE run_seq = $1', [run.seq]);
          await tx.query('DELETE FROM digest_fanouts WHERE run_seq = $1', [run.seq]);
          await tx.query(
            'INSERT INTO digest_fanouts (run_seq, run_id, items, chunk_size, chunks, plan, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
            [run.seq, runId, p.items, p.chunkSize, chunks, p.plan, p.now.getTime()],
          );
          for (let start = 0; start < chunks; start += INSERT_BATCH) {
            const n = Math.min(INSERT_BATCH, chunks - start);
            const values = Array.from({ length: n }, (_, i) => `($1, $${i + 2}, 'open')`).join(', ');
            await tx.query(`INSERT INTO digest_fanout_chunks (run_seq, chunk, status) VALUES ${values}`, [run.seq, ...Array.from({ length: n }, (_, i) => start + i)]);
          }
          return true;
        }),
      ),

    state: (job, slot) =>
      op('fanout.state', async () => {
        const r = await db.query<{ id: string; status: string; owner: string; lease_until: Date | number; attempts: number | string; items: number | string | null; chunk_size: number | string | null; chunks: number | string | null }>(
          `SELECT r.id, r.status, r.owner, r.lease_until, r.attempts, f.items, f.chunk_size, f.chunks
             FROM digest_runs r LEFT JOIN digest_fanouts f ON f.run_seq = r.seq AND f.run_id = r.id
            WHERE r.job = $1 AND r.slot = $2`,
          [job, slot],
        );
        const row = r.rows[0];
        if (!row) return null;
        return {
          runId: row.id,
          status: row.status,
          owner: row.owner,
          leaseUntil: toDate(row.lease_until),
          attempts: Number(row.attempts),
          fanout: row.items === null ? null : { items: Number(row.items), chunkSize: Number(row.chunk_size), chunks: Number(row.chunks) },
        };
      }),

    plan: (runId) =>
      op('fanout.plan', async () => {
        const r = await db.query<{ plan: string }>(`SELECT plan FROM digest_fanouts WHERE run_seq = ${RUN_SEQ}`, [runId]);
        return r.rows[0]?.plan ?? null;
      }),

    take: (runId, owner, leaseMs, now) =>
      op('fanout.take', async () => {
        const t = now.getTime();
        // One statement: the sub-select picks a chunk no other transaction holds (PostgreSQL: SKIP
        // LOCKED; SQLite runs one writer at a time) and the UPDATE re-checks it is still free.
        const free = `(status = 'open' OR (status = 'taken' AND lease_until < $4))`;
        const r = await db.query<{ chunk: number | string; takes: number | string }>(
          `UPDATE digest_fanout_chunks SET status = 'taken', owner = $2, lease_until = $3, takes = takes + 1
            WHERE run_seq = ${RUN_SEQ} AND ${free}
              AND chunk = (SELECT chunk FROM digest_fanout_chunks WHERE run_seq = ${RUN_SEQ} AND ${free} ORDER BY chunk LIMIT 1${db.skipLocked})
           RETURNING chunk, takes`,
          [runId, owner, t + leaseMs, t],
        );
        const row = r.rows[0];
        if (!row) return null;
        const size = await db.query<{ chunk_size: number | string; items: number | string }>(`SELECT chunk_size, items FROM digest_fanouts WHERE run_id = $1`, [runId]);
        const s = size.rows[0];
        if (!s) return null;
        const chunk = Number(row.chunk);
        const from = chunk * Number(s.chunk_size);
        return { chunk, from, to: Math.min(Number(s.items), from + Number(s.chunk_size)), takes: Number(row.takes) };
      }),

    renew: (runId, chunk, owner, leaseUntil) =>
      op('fanout.renew', async () => {
        const r = await db.query(
          `UPDATE digest_fanout_chunks SET lease_until = $4 WHERE run_seq = ${RUN_SEQ} AND chunk = $2 AND owner = $3 AND status = 'taken'`,
          [runId, chunk, owner, leaseUntil.getTime()],
        );
        return r.rowCount === 1;
      }),

    complete: (runId, chunk, owner, result) =>
      op('fanout.complete', async () => {
        const r = await db.query(
          `UPDATE digest_fanout_chunks SET status = $4, sent = $5, error = $6 WHERE run_seq = ${RUN_SEQ} AND chunk = $2 AND owner = $3 AND status = 'taken'`,
          [runId, chunk, owner, result.error ? 'failed' : 'done', result.sent, result.error ? JSON.stringify(result.error) : null],
        );
        return r.rowCount === 1;
      }),

    progress: (runId, now) =>
      op('fanout.progress', async () => {
        const r = await db.query<{ status: string; expired: number | string; n: number | string; sent: number | string | null }>(
          `SELECT status, CASE WHEN status = 'taken' AND lease_until < $2 THEN 1 ELSE 0 END AS expired, count(*) AS n, sum(sent) AS sent
             FROM digest_fanout_chunks WHERE run_seq = ${RUN_SEQ} GROUP BY status, CASE WHEN status = 'taken' AND lease_until < $2 THEN 1 ELSE 0 END`,
          [runId, now.getTime()],
        );
        const p: FanoutProgress = { chunks: 0, open: 0, taken: 0, expired: 0, done: 0, failed: 0, sent: 0, error: null };
        for (const row of r.rows) {
          const n = Number(row.n);
          p.chunks += n;
          if (row.status === 'open') p.open += n;
          else if (row.status === 'taken' && Number(row.expired) === 1) p.expired += n;
          else if (row.status === 'taken') p.taken += n;
          else if (row.status === 'done') p.done += n;
          else p.failed += n;
          p.sent += Number(row.sent ?? 0);
        }
        if (p.failed > 0) {
          const e = await db.query<{ error: string | null }>(`SELECT error FROM digest_fanout_chunks WHERE run_seq = ${RUN_SEQ} AND status = 'failed' ORDER BY chunk LIMIT 1`, [runId]);
          p.error = e.rows[0]?.error ? (JSON.parse(e.rows[0].error) as FanoutProgress['error']) : null;
        }
        return p;
      }),

    drop: (runId) =>
      op('fanout.drop', async () => {
        // Chunks first: SQLite enforces the cascade only with foreign keys on (the driver sets it; be explicit anyway).
        await db.query('DELETE FROM digest_fanout_chunks WHERE run_seq IN (SELECT run_seq FROM digest_fanouts WHERE run_id = $1)', [runId]);
        await db.query('DELETE FROM digest_fanouts WHERE run_id = $1', [runId]);
      }),
  };
}
