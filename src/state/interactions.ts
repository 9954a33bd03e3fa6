/**
 * The ledger's part of interactive messages: which events were handled (event ids and button
 * trigger ids, so an at-least-once delivery has one effect, across replicas sharing PostgreSQL),
 * per-user unsubscribes from a job's DM fan-outs, acknowledgements, and a short per-message lock
 * that orders a button action against a scheduled run editing the same message.
 *
 * One implementation over a two-method SQL adapter that each driver provides; the SQL is
 * written once in the dialect both engines accept (`$n` parameters, ON CONFLICT, epoch ms).
 */
export interface SqlAdapter {
  /** Runs one statement; `changes` is the number of rows inserted/updated/deleted. */
  run(sql: string, params: unknown[]): Promise<{ rows: Array<Record<string, unknown>>; changes: number }>;
}

export interface Acknowledgement {
  messageId: number;
  job: string;
  userId: number;
  at: Date;
}

export interface InteractionLedger {
  /**
   * Claim the handling of `key` (`event:<id>`, `trigger:<id>`). True for the first caller, and for a
   * caller after a claim whose holder died (lease over) without finishing. Done keys stay taken.
   */
  take(key: string, owner: string, leaseMs: number, now: Date): Promise<boolean>;
  /** The handling succeeded: the key is never taken again (until pruned). */
  complete(key: string, owner: string, now: Date): Promise<void>;
  /** The handling failed: let a redelivery try again. */
  release(key: string, owner: string): Promise<void>;
  isDone(key: string): Promise<boolean>;

  setUnsubscribed(job: string, userId: number, unsubscribed: boolean, now: Date): Promise<void>;
  isUnsubscribed(job: string, userId: number): Promise<boolean>;
  /** User ids that opted out of `job`'s DM fan-outs. */
  listUnsubscribed(job: string): Promise<number[]>;

  /** The first acknowledgement of a message wins; false when it was already acknowledged. */
  acknowledge(ack: Acknowledgement): Promise<boolean>;
  getAcknowledgement(messageId: number): Promise<Acknowledgement | null>;

  /** A lease lock on a message (action vs. scheduled edit); false when another holder has it. */
  lockMessage(messageId: number, owner: string, leaseMs: number, now: Date): Promise<boolean>;
  unlockMessage(messageId: number, owner: string): Promise<void>;

  /** Forget handled keys older than `olderThan` (Pachca does not redeliver after days). */
  pruneHandled(olderThan: Date): Promise<number>;
}

export const INTERACTIONS_MIGRATION = {
  version: 3,
  name: 'handled events, unsubscribes, acknowledgements, message locks',
  sqlite: `
    CREATE TABLE digest_handled (
      key TEXT PRIMARY KEY,
      status TEXT NOT NULL CHECK (status IN ('running', 'done')),
      owner TEXT NOT NULL,
      lease_until INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE digest_unsubscribes (
      job TEXT NOT NULL,
      user_id INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (job, user_id)
    ) STRICT;
    CREATE TABLE digest_acks (
      message_id INTEGER PRIMARY KEY,
      job TEXT NOT NULL,
      user_id INTEGER NOT NULL,
      acked_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE digest_message_locks (
      message_id INTEGER PRIMARY KEY,
      owner TEXT NOT NULL,
      lease_until INTEGER NOT NULL
    ) STRICT;
  `,
  postgres: `
    CREATE TABLE digest_handled (
      key text PRIMARY KEY,
      status text NOT NULL CHECK (status IN ('running', 'done')),
      owner text NOT NULL,
      lease_until bigint NOT NULL,
      updated_at bigint NOT NULL
    );
    CREATE TABLE digest_unsubscribes (
      job text NOT NULL,
      user_id bigint NOT NULL,
      created_at bigint NOT NULL,
      PRIMARY KEY (job, user_id)
    );
    CREATE TABLE digest_acks (
      message_id bigint PRIMARY KEY,
      job text NOT NULL,
      user_id bigint NOT NULL,
      acked_at bigint NOT NULL
    );
    CREATE TABLE digest_message_locks (
      message_id bigint PRIMARY KEY,
      owner text NOT NULL,
      lease_until bigint NOT NULL
    );
  `,
} as const;

export function interactionLedger(db: SqlAdapter): InteractionLedger {
  const ms = (d: Date) => d.getTime();
  return {
    async take(key, owner, leaseMs, now) {
      const r = await db.run(
        `INSERT INTO digest_handled (key, status, owner, lease_until, updated_at) VALUES ($1, 'running', $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until, updated_at = excluded.updated_at
         WHERE digest_handled.status = 'running' AND digest_handled.lease_until < $4`,
        [key, owner, ms(now) + leaseMs, ms(now)],
      );
      return r.changes > 0;
    },
    async complete(key, owner, now) {
      await db.run(`UPDATE digest_handled SET status = 'done', updated_at = $3 WHERE key = $1 AND owner = $2`, [key, owner, ms(now)]);
    },
    async release(key, owner) {
      await db.run(`DELETE FROM digest_handled WHERE key = $1 AND owner = $2 AND status = 'running'`, [key, owner]);
    },
    async isDone(key) {
      const r = await db.run(`SELECT status FROM digest_handled WHERE key = $1`, [key]);
      return r.rows[0]?.status === 'done';
    },
    async setUnsubscribed(job, userId, unsubscribed, now) {
      if (unsubscribed) {
        await db.run(`INSERT INTO digest_unsubscribes (job, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (job, user_id) DO NOTHING`, [job, userId, ms(now)]);
      } else {
        await db.run(`DELETE FROM digest_unsubscribes WHERE job = $1 AND user_id = $2`, [job, userId]);
      }
    },
    async isUnsubscribed(job, userId) {
      const r = await db.run(`SELECT 1 AS x FROM digest_unsubscribes WHERE job = $1 AND user_id = $2`, [job, userId]);
      return r.rows.length > 0;
    },
    async listUnsubscribed(job) {
      const r = await db.run(`SELECT user_id FROM digest_unsubscribes WHERE job = $1 ORDER BY user_id`, [job]);
      return r.rows.map((row) => Number(row.user_id));
    },
    async acknowledge(ack) {
      const r = await db.run(
        `INSERT INTO digest_acks (message_id, job, user_id, acked_at) VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO NOTHING`,
        [ack.messageId, ack.job, ack.userId, ms(ack.at)],
      );
      return r.changes > 0;
    },
    async getAcknowledgement(messageId) {
      const r = await db.run(`SELECT message_id, job, user_id, acked_at FROM digest_acks WHERE message_id = $1`, [messageId]);
      const row = r.rows[0];
      if (!row) return null;
      return { messageId: Number(row.message_id), job: String(row.job), userId: Number(row.user_id), at: new Date(Number(row.acked_at)) };
    },
    async lockMessage(messageId, owner, leaseMs, now) {
      const r = await db.run(
        `INSERT INTO digest_message_locks (message_id, owner, lease_until) VALUES ($1, $2, $3)
         ON CONFLICT (message_id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
         WHERE digest_message_locks.lease_until < $4 OR digest_message_locks.owner = excluded.owner`,
        [messageId, owner, ms(now) + leaseMs, ms(now)],
      );
      return r.changes > 0;
    },
    async unlockMessage(messageId, owner) {
      await db.run(`DELETE FROM digest_message_locks WHERE message_id = $1 AND owner = $2`, [messageId, owner]);
    },
    async pruneHandled(olderThan) {
      const r = await db.run(`DELETE FROM digest_handled WHERE status = 'done' AND updated_at < $1`, [ms(olderThan)]);
      return r.changes;
    },
  };
}

