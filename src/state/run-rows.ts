/**
 * Reading runs back: the columns selected, the raw rows both dialects return and their conversion
 * to RunRecord with the run's deliveries. Apart from core.ts so the ledger's rules read as rules,
 * and one place knows how a row becomes a record.
 */
import { toDate, toDateOrNull, type SqlExecutor } from './driver.js';
import { parseJson, sortDeliveries } from './shared.js';
import type { DeliveredFile, DeliveryRecord, RunRecord, RunStatus } from './types.js';

/** JSON columns are read as text so both dialects hand back the same thing (PostgreSQL would parse jsonb). */
export const RUN_COLUMNS =
  'seq, id, job, slot, status, owner, lease_until, attempts, started_at, finished_at, reason, ' +
  'CAST(error AS TEXT) AS error, CAST(metrics AS TEXT) AS metrics, forced_at';

export interface RunRow {
  seq: number | string;
  id: string;
  job: string;
  slot: Date | number;
  status: RunStatus;
  owner: string;
  lease_until: Date | number;
  attempts: number;
  started_at: Date | number;
  finished_at: Date | number | null;
  reason: string | null;
  error: string | null;
  metrics: string | null;
  forced_at: Date | number | null;
}

interface DeliveryRow {
  run_seq: number | string;
  key: string;
  message_id: number | string;
  chat_id: number | string | null;
  url: string | null;
  delivered_at: Date | number;
  files: string | null;
}

export async function one(q: SqlExecutor, sql: string, params: unknown[]): Promise<RunRecord | null> {
  const r = await q.query<RunRow>(sql, params);
  return r.rows[0] ? (await withDeliveries(q, r.rows))[0]! : null;
}

export function loadBySeq(q: SqlExecutor, seq: number | string): Promise<RunRecord | null> {
  return one(q, `SELECT ${RUN_COLUMNS} FROM digest_runs WHERE seq = $1`, [seq]);
}

export async function withDeliveries(q: SqlExecutor, rows: RunRow[]): Promise<RunRecord[]> {
  const bySeq = new Map<string, DeliveryRecord[]>();
  // Chunked: one IN list per 500 runs keeps every statement within both databases' parameter limits.
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const list = chunk.map((_, j) => `$${j + 1}`).join(', ');
    const r = await q.query<DeliveryRow>(
      `SELECT run_seq, key, message_id, chat_id, url, delivered_at, CAST(files AS TEXT) AS files FROM digest_deliveries WHERE run_seq IN (${list})`,
      chunk.map((row) => row.seq),
    );
    for (const d of r.rows) {
      const k = String(d.run_seq);
      let found = bySeq.get(k);
      if (!found) bySeq.set(k, (found = []));
      const files = d.files ? (parseJson(d.files) as DeliveredFile[] | null) : null;
      found.push({
        key: d.key,
        messageId: Number(d.message_id),
        chatId: d.chat_id === null ? null : Number(d.chat_id),
        url: d.url,
        deliveredAt: toDate(d.delivered_at),
        ...(files && files.length > 0 ? { files } : {}),
      });
    }
  }
  return rows.map((row) => toRecord(row, sortDeliveries(bySeq.get(String(row.seq)) ?? [])));
}

function toRecord(r: RunRow, deliveries: DeliveryRecord[]): RunRecord {
  return {
    id: r.id,
    job: r.job,
    slot: toDate(r.slot),
    status: r.status,
    owner: r.owner,
    leaseUntil: toDate(r.lease_until),
    attempts: Number(r.attempts),
    startedAt: toDate(r.started_at),
    finishedAt: toDateOrNull(r.finished_at),
    reason: r.reason,
    error: parseJson(r.error) as RunRecord['error'],
    metrics: parseJson(r.metrics),
    ...(r.forced_at === null || r.forced_at === undefined ? {} : { forcedAt: toDate(r.forced_at) }),
    deliveries,
  };
}
