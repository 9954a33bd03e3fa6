/**
 * The fault matrix (see ./fault-matrix.ts) on the PostgreSQL ledger replicas share: every target ×
 * the crash faults (kill -9 between the server's commit and the record, SIGTERM mid-run). Those are
 * the rows the ledger decides, by its claim, lease, takeover and per-part records; the other
 * faults resolve inside one run's client, whichever ledger it records in (fault-matrix.test.ts).
 * A separate file, so it runs beside the SQLite rows instead of after them.
 */
import { PG } from './helpers.js';
import { faultMatrix } from './fault-matrix.js';

if (!PG) console.warn('test/e2e-ledger/fault-matrix-pg.test.ts: SKIPPED — PACHCA_DIGEST_TEST_PG is not set (scripts/start-postgres.sh prints a URL)');

faultMatrix({ ledger: 'postgres', faults: ['kill-9-before-record', 'sigterm-mid-run'], artifact: 'fault-matrix-pg', enabled: Boolean(PG) });
