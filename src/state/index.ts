/**
 * The run ledger: "exactly one digest per scheduled slot".
 *
 *   const state = await openStateStore(config.state.url, { baseDir: config.dir });
 *   const c = await state.claim(job.name, slot, { owner, leaseMs: config.state.leaseMs, now });
 *   if (!c.claimed) return;                 // another replica has it, or it is already done
 *   … await state.recordDelivery(c.run.id, { key, messageId, chatId, url, deliveredAt }) per message …
 *   await state.finish(c.run.id, { status: 'succeeded', now, metrics });
 *
 * URLs: `sqlite:PATH` (relative to the config directory; parents created), `sqlite::memory:` (tests),
 * `postgres://USER:PASSWORD@HOST:5432/DB[?schema=NAME]` (or postgresql://; the schema is created if missing).
 * Drivers are imported lazily: a SQLite process never loads `pg`, a PostgreSQL one never loads better-sqlite3.
 */
import type { Logger } from '../observability/index.js';
import { parseStateUrl } from './url.js';
import type { StateStore } from './types.js';

export type {
  DeliveredFile,
  ClaimOptions,
  ClaimResult,
  DeliveryRecord,
  FinishOptions,
  RunRecord,
  RunStatus,
  StateStore,
} from './types.js';
export type { StateUrl } from './url.js';
export type { InteractionLedger, Acknowledgement } from './interactions.js';
export type { FanoutLedger, FanoutChunk, FanoutProgress, FanoutState } from './fanout.js';
export { withMessageLock } from './interactions.js';
export { parseStateUrl, redactStateUrl } from './url.js';
export { STATE_DEFAULTS } from './defaults.js';
export { withLedgerRetry, isLedgerUnavailable, LEDGER_RETRY } from './retry.js';
export { MIGRATIONS, LATEST_VERSION } from './migrations.js';

export interface OpenStateStoreOptions {
  /** Directory relative `sqlite:` paths are resolved against (the config file's directory). */
  baseDir: string;
  /** Receives warnings such as a lost idle PostgreSQL connection. */
  logger?: Logger;
  /** SQLite: how long to wait for another process's write lock. */
  busyTimeoutMs?: number;
  /** PostgreSQL: pool size. */
  poolMax?: number;
}

/**
 * Open the ledger named by `url` (`sqlite:PATH`, `sqlite::memory:`, `postgres://…`, `postgresql://…`) and apply
 * pending migrations. Throws DigestError E_CONFIG for a malformed URL and E_STATE when the store is unreachable.
 */
export async function openStateStore(url: string, options: OpenStateStoreOptions): Promise<StateStore> {
  const parsed = parseStateUrl(url, options.baseDir);
  if (parsed.kind === 'sqlite') {
    const { openSqliteStateStore } = await import('./sqlite.js');
    return openSqliteStateStore(parsed.path, { busyTimeoutMs: options.busyTimeoutMs });
  }
  const { openPostgresStateStore } = await import('./postgres.js');
  return openPostgresStateStore({
    connectionString: parsed.connectionString,
    schema: parsed.schema,
    where: `${parsed.host}:${parsed.port}/${parsed.database}${parsed.schema ? ` (schema ${parsed.schema})` : ''}`,
    poolMax: options.poolMax,
    logger: options.logger,
  });
}

