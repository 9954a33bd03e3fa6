/** The fault matrix (see ./fault-matrix.ts) on the SQLite ledger: every target × every failure point. */
import { FAULTS, faultMatrix } from './fault-matrix.js';

faultMatrix({ ledger: 'sqlite', faults: FAULTS, artifact: 'fault-matrix' });
