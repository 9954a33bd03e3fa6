/**
 * Retention's rules in SQL: which finished runs prune (LedgerStore.prune) deletes, and the
 * high-water mark it leaves so that a claim of a slot retention may have forgotten is refused.
 */
import { DigestError } from '../errors.js';
import type { SqlExecutor } from './driver.js';

/**
 * Retention. Per job, a finished run goes when it is beyond the newest `keep` or was RECORDED (finished, else
 * started) before `olderThan` — by when it happened, not by its slot, so a backfilled old slot is not deleted the
 * moment it succeeds (and then posted again). Never deleted: running runs, the job's newest run (catch-up starts
 * from it) and its newest success (the next run's `previous`). Deliveries go with their run (FK cascade).
 */
export const PRUNE = `
  DELETE FROM digest_runs WHERE seq IN (
    SELECT seq FROM (
      SELECT seq, status, slot, coalesce(finished_at, started_at) AS recorded,
             row_number() OVER (PARTITION BY job ORDER BY slot DESC) AS rn,
             max(CASE WHEN status = 'succeeded' THEN slot END) OVER (PARTITION BY job) AS last_ok
        FROM digest_runs
    ) ranked
    WHERE status <> 'running'
      AND rn > 1
      AND NOT (status = 'succeeded' AND slot = last_ok)
      AND (rn > $1 OR recorded < $2)
  ) RETURNING job, slot`;

/**
 * Per job, the newest slot retention ever deleted. A slot at or before it with no record may have run already:
 * claiming it again could post it twice, so only `force` does.
 */
export const PRUNED_KEY = 'ledger:pruned-up-to:';

export async function prunedUpTo(q: SqlExecutor, job: string): Promise<number | null> {
  const r = await q.query<{ value: string }>('SELECT value FROM digest_flags WHERE key = $1', [PRUNED_KEY + job]);
  return r.rows[0] ? Number(r.rows[0].value) : null;
}

export async function refusePruned(q: SqlExecutor, job: string, slot: Date): Promise<void> {
  const upTo = await prunedUpTo(q, job);
  if (upTo === null || slot.getTime() > upTo) return;
  const known = await q.query('SELECT 1 AS one FROM digest_runs WHERE job = $1 AND slot = $2', [job, slot]);
  if (known.rows.length > 0) return;
  throw new DigestError(
    'E_STATE',
    `slot ${slot.toISOString()} of "${job}" is at or before ${new Date(upTo).toISOString()}, where retention already removed runs from the ledger: it may have run, and running it again could post it twice`,
    { hint: 'pass --force to run it anyway, or raise state.retention (runs / days) so the ledger remembers longer' },
  );
}
