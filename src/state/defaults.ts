/**
 * Every tunable of the run ledger in one place. Values are for a ledger that is written a few times per run,
 * so they favour robustness (waiting for a lock) over throughput.
 */
export const STATE_DEFAULTS = {
  /** Used when the config does not set `state.url`: a SQLite file next to jobs.config.yaml. */
  url: 'sqlite:.pachca-digest/state.db',
  sqlite: {
    /** How long a writer waits for another process's write lock before failing with SQLITE_BUSY. */
    busyTimeoutMs: 10_000,
  },
  postgres: {
    /** A run-job pod needs 1–2 connections; a daemon with parallel jobs a few more. */
    poolMax: 4,
    connectTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
    applicationName: 'pachca-digest',
    /** Key of the session advisory lock that serializes migrations across replicas ("pachca-digest:migrate"). */
    migrationLockKey: 7_301_624_117,
  },
} as const;
