/**
 * The fault matrix (see ./fault-matrix.ts) on the PostgreSQL ledger replicas share: every target ×
 * every failure point, as on SQLite. The crash rows (kill -9 between the server's commit and the
 * record, SIGTERM mid-run) are decided by the ledger's claim, lease, takeover and per-part
 * records; the others by the client's "did it land?" within one run, whose deliveries are
 * recorded here through the PostgreSQL driver (a recorded part, a found one, a keyed edit).
 * A separate file, so it runs beside the SQLite rows instead of after them.
 */
import { PG } from './helpers.js';
import { FAULTS, faultMatrix } from './fault-matrix.js';

if (!PG) console.warn('test/e2e-ledger/fault-matrix-pg.test.ts: SKIPPED — PACHCA_DIGEST_TEST_PG is not set (scripts/start-postgres.sh prints a URL)');

faultMatrix({ ledger: 'postgres', faults: FAULTS, artifact: 'fault-matrix-pg', enabled: Boolean(PG) });
