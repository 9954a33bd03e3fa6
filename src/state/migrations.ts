/**
 * Versioned schema migrations, one list for both dialects so their versions never drift apart.
 * Append new versions; never edit an applied one (a ledger outlives the release that created it).
 * Tables carry a `digest_` prefix because a PostgreSQL database is often shared with other services.
 */
import { INTERACTIONS_MIGRATION } from './interactions.js';

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS_TABLE = 'digest_migrations';

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
  INTERACTIONS_MIGRATION,
];

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
