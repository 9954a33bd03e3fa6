/**
 * Versioned schema migrations, one list for both dialects so their versions never drift apart.
 * Append new versions; never edit an applied one (a ledger outlives the release that created it).
 * Tables carry a `digest_` prefix because a PostgreSQL database is often shared with other services.
 */
import { INTERACTIONS_MIGRATION } from './interactions.js';
import { FANOUT_MIGRATION } from './fanout.js';

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS_TABLE = 'digest_migrations';

/** The table that records applied versions (created before any migration runs). */
export function migrationsTableDdl(dialect: 'sqlite' | 'postgres'): string {
  return dialect === 'sqlite'
    ? `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`
    : `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, deliveries, flags',
    // SQLite: times are UTC epoch milliseconds; JSON is text. `seq` is internal: the public run id changes on
    // every claim (it is the claim token), while deliveries must survive a takeover.
    sqlite: `
      CREATE TABLE digest_runs (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        job TEXT NOT NULL,
        slot INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
        owner TEXT NOT NULL,
        lease_until INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        reason TEXT,
        error TEXT,
        metrics TEXT,
        UNIQUE (job, slot)
      ) STRICT;
      CREATE INDEX digest_runs_job_status_slot ON digest_runs (job, status, slot);
      CREATE INDEX digest_runs_slot ON digest_runs (slot);
      CREATE TABLE digest_deliveries (
        run_seq INTEGER NOT NULL REFERENCES digest_runs (seq) ON DELETE CASCADE,
        key TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        chat_id INTEGER,
        url TEXT,
        delivered_at INTEGER NOT NULL,
        PRIMARY KEY (run_seq, key)
      ) STRICT;
      CREATE TABLE digest_flags (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
    `,
    postgres: `
      CREATE TABLE digest_runs (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        job text NOT NULL,
        slot timestamptz NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
        owner text NOT NULL,
        lease_until timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 1,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        reason text,
        error jsonb,
        metrics jsonb,
        UNIQUE (job, slot)
      );
      CREATE INDEX digest_runs_job_status_slot ON digest_runs (job, status, slot DESC);
      CREATE INDEX digest_runs_slot ON digest_runs (slot DESC);
      CREATE TABLE digest_deliveries (
        run_seq bigint NOT NULL REFERENCES digest_runs (seq) ON DELETE CASCADE,
        key text NOT NULL,
        message_id bigint NOT NULL,
        chat_id bigint,
        url text,
        delivered_at timestamptz NOT NULL,
        PRIMARY KEY (run_seq, key)
      );
      CREATE TABLE digest_flags (
        key text PRIMARY KEY,
        value text NOT NULL,
        updated_at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'interrupted runs (a claim handed over at shutdown)',
    // SQLite cannot change a CHECK constraint in place: rebuild both tables. Children are copied to a new table
    // first, because dropping digest_runs with foreign keys on would cascade-delete every delivery. RENAME
    // rewrites the new deliveries table's reference to the final name.
    sqlite: `
      CREATE TABLE digest_runs_v2 (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        job TEXT NOT NULL,
        slot INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'interrupted')),
        owner TEXT NOT NULL,
        lease_until INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        reason TEXT,
        error TEXT,
        metrics TEXT,
        UNIQUE (job, slot)
      ) STRICT;
      INSERT INTO digest_runs_v2 SELECT * FROM digest_runs;
      CREATE TABLE digest_deliveries_v2 (
        run_seq INTEGER NOT NULL REFERENCES digest_runs_v2 (seq) ON DELETE CASCADE,
        key TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        chat_id INTEGER,
        url TEXT,
        delivered_at INTEGER NOT NULL,
        PRIMARY KEY (run_seq, key)
      ) STRICT;
      INSERT INTO digest_deliveries_v2 SELECT * FROM digest_deliveries;
      DROP TABLE digest_deliveries;
      DROP TABLE digest_runs;
      ALTER TABLE digest_runs_v2 RENAME TO digest_runs;
      ALTER TABLE digest_deliveries_v2 RENAME TO digest_deliveries;
      CREATE INDEX digest_runs_job_status_slot ON digest_runs (job, status, slot);
      CREATE INDEX digest_runs_slot ON digest_runs (slot);
    `,
    postgres: `
      ALTER TABLE digest_runs DROP CONSTRAINT IF EXISTS digest_runs_status_check;
      ALTER TABLE digest_runs ADD CONSTRAINT digest_runs_status_check
        CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'interrupted'));
    `,
  },
  INTERACTIONS_MIGRATION,
  {
    version: 4,
    name: 'files attached to a delivered message',
    // Nullable and added in place: older rows have no files, and no table rebuild is needed.
    sqlite: 'ALTER TABLE digest_deliveries ADD COLUMN files TEXT;',
    postgres: 'ALTER TABLE digest_deliveries ADD COLUMN files jsonb;',
  },
  FANOUT_MIGRATION,
  {
    version: 6,
    name: 'when a forced re-run of the slot began',
    // A takeover of a forced re-run must look for its posts from then on, not from the slot (whose first
    // run posted the same texts). Nullable and added in place: no older run was forced in a way that mattered.
    sqlite: 'ALTER TABLE digest_runs ADD COLUMN forced_at INTEGER;',
    postgres: 'ALTER TABLE digest_runs ADD COLUMN forced_at timestamptz;',
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
