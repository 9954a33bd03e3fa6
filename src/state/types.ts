/**
 * The run ledger. Two implementations (SQLite default, PostgreSQL for replicas) behind this one
 * interface, checked by one contract test suite (test/state/contract.ts).
 */
import type { MessageFile } from '../pachca/index.js';
import type { InteractionLedger } from './interactions.js';
import type { FanoutLedger } from './fanout.js';
/**
 * `interrupted`: the process was told to stop (SIGTERM) before the run finished and handed the claim back; any
 * process claims it again at once and delivers only what is missing (deliveries are kept).
 */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'interrupted';

export interface DeliveryRecord {
  /** Stable key of one message of the run: target + fan-out item + part, e.g. `chat:12#0`. */
  key: string;
  messageId: number;
  chatId: number | null;
  url: string | null;
  deliveredAt: Date;
  /** Files attached to the message (uploaded keys), as posted; absent when none. */
  files?: DeliveredFile[];
}

/** One attached file as the message carries it (Pachca's `files[]` item). */
export type DeliveredFile = MessageFile;

export interface RunRecord {
  /**
   * Token of the current claim of (job, slot): every claim (takeover, retry, force) issues a new id, so a process
   * that lost its claim gets E_STATE from `finish`/`recordDelivery` and `false` from `renewLease`.
   */
  id: string;
  job: string;
  /** The scheduled time this run is for (key together with job). */
  slot: Date;
  status: RunStatus;
  /** Who holds the claim (host:pid:random). */
  owner: string;
  leaseUntil: Date;
  /** How many times the slot was claimed (crash recovery, retries). */
  attempts: number;
  startedAt: Date;
  finishedAt: Date | null;
  reason: string | null;
  error: { code: string; message: string; hint?: string } | null;
  /** Metrics snapshot (succeeded runs), the next run's `previous`. */
  metrics: unknown;
  /**
   * When a forced re-run (`run-job --force`) of this slot claimed it; kept by a takeover or retry of
   * that re-run, whose look-ups for unrecorded posts start here, not at the slot (the first run's
   * posts carry the same texts). Absent when the slot was never forced.
   */
  forcedAt?: Date;
  deliveries: DeliveryRecord[];
}

export type ClaimResult =
  | { claimed: true; run: RunRecord }
  /** Someone else holds a live claim, or the slot is already finished. */
  | { claimed: false; run: RunRecord };

export interface ClaimOptions {
  owner: string;
  leaseMs: number;
  now: Date;
  /** Re-run a finished slot on purpose (`run-job --force`): previous deliveries are forgotten. */
  force?: boolean;
  /** Re-claim a failed slot (daemon retries): deliveries already made are kept and skipped. */
  retryFailed?: boolean;
}

export interface FinishOptions {
  status: Exclude<RunStatus, 'running'>;
  now: Date;
  reason?: string;
  error?: { code: string; message: string; hint?: string };
  metrics?: unknown;
}

/** A process's part in a shared token budget (see StateStore.replicaBeat). */
export type ReplicaState = 'active' | 'idle' | 'gone';

export interface StateStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Handled events, unsubscribes, acknowledgements, message locks (src/state/interactions.ts). */
  readonly interactions: InteractionLedger;
  /** A big fan-out split across replicas: published plans and leased chunks (src/state/fanout.ts). */
  readonly fanout: FanoutLedger;
  /** Apply pending versioned migrations (idempotent, safe with concurrent callers). */
  migrate(): Promise<void>;
  /** Atomically claim (job, slot). A second caller gets `claimed: false` and the current record. */
  claim(job: string, slot: Date, options: ClaimOptions): Promise<ClaimResult>;
  /** Extend the lease of a run still owned by `owner`; false when the claim was lost. */
  renewLease(runId: string, owner: string, leaseUntil: Date): Promise<boolean>;
  /** Record one delivered message the moment it succeeds. */
  recordDelivery(runId: string, delivery: DeliveryRecord): Promise<void>;
  /**
   * Record several delivered messages in one transaction (a large fan-out writes in batches: one
   * commit per batch, not per message). Same rules as `recordDelivery`; all or none.
   */
  recordDeliveries(runId: string, deliveries: readonly DeliveryRecord[]): Promise<void>;
  finish(runId: string, options: FinishOptions): Promise<void>;
  getRun(job: string, slot: Date): Promise<RunRecord | null>;
  /** The newest succeeded run (with metrics and deliveries), for `previous` and delivery mode `update`. */
  lastSuccess(job: string, before?: Date): Promise<RunRecord | null>;
  /** The newest run by slot regardless of status, for catch-up. */
  lastRun(job: string): Promise<RunRecord | null>;
  /** Newest first. */
  history(options: { job?: string; limit: number }): Promise<RunRecord[]>;
  /** Failed runs since the last success, newest first (alerts). */
  consecutiveFailures(job: string): Promise<number>;
  /** Small key-value state (alert open/closed per job). */
  /**
   * Heartbeat of a process sharing a token's budget: records whether it is sending, idle or gone
   * (stopping), and returns how many processes of `group` beat within `ttlMs`: sending, and alive at
   * all (itself included unless gone).
   */
  replicaBeat(group: string, owner: string, state: ReplicaState, now: Date, ttlMs: number): Promise<{ active: number; alive: number }>;
  getFlag(key: string): Promise<string | null>;
  setFlag(key: string, value: string | null): Promise<void>;
  /**
   * Drop finished runs beyond retention; returns how many were removed. Per job, a run goes when it is not among
   * the newest `keepRuns` (by slot) OR its slot is older than `olderThan`; running runs and the job's newest
   * succeeded run (the next run's `previous`) are always kept.
   */
  prune(options: { keepRuns: number; olderThan: Date }): Promise<number>;
  /** Reachability check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
