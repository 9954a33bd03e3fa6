/**
 * What a large fan-out needs besides sending: deliveries written to the ledger in batches, and
 * progress for the terminal, the daemon's log and /metrics.
 *
 * Batches trade a little of "recorded the moment it succeeds" for one commit per batch instead of
 * one per message: a crash loses at most the batch not yet written (≤ FLUSH_EVERY records, ≤
 * FLUSH_AFTER_MS old) plus the messages in flight (a sender waits when the ledger falls two batches behind). The takeover then meets them as "posted but not
 * recorded", which the run's re-check ("did it land?") resolves before posting again.
 */
import type { DigestEmitter } from '../events.js';
import type { DeliveryRecord, StateStore } from '../state/index.js';

/** Write a batch once this many deliveries wait… */
export const FLUSH_EVERY = 50;
/** …or once the oldest waited this long. */
export const FLUSH_AFTER_MS = 250;
/** How often a running fan-out reports progress (the daemon's log thins it out further). */
export const PROGRESS_EVERY_MS = 1_000;

export class DeliveryBatcher {
  #pending: DeliveryRecord[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> = Promise.resolve();
  /** Records handed to the ledger whose write has not finished yet. */
  #unwritten = 0;
  #error: unknown;

  constructor(
    /** Writes one batch in one transaction (the ledger's recordDeliveries, with its outage retry). */
    private readonly write: (batch: readonly DeliveryRecord[]) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Queue one record. Resolves at once unless the ledger is behind by more than two batches: then
   * the sender waits for it, so a slow ledger cannot let the unrecorded window grow.
   */
  add(record: DeliveryRecord): Promise<void> {
    this.#pending.push(record);
    this.#unwritten++;
    if (this.#pending.length >= FLUSH_EVERY) void this.flush().catch(() => undefined);
    else if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush().catch(() => undefined), FLUSH_AFTER_MS);
      this.#timer.unref?.();
    }
    if (this.#unwritten <= 2 * FLUSH_EVERY) return Promise.resolve();
    return this.#writing;
  }

  /** Write what is pending (after any batch already being written); rejects if a write failed. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length > 0) {
      this.#writing = this.#writing.then(async () => {
        if (this.#error !== undefined) return;
        try {
          await this.write(batch);
          this.#unwritten -= batch.length;
        } catch (err) {
          this.#error = err;
          this.onError(err);
        }
      });
    }
    return this.#writing.then(() => {
      if (this.#error !== undefined) throw this.#error;
    });
  }
}

/** Sent / total, rate and ETA of one run's fan-out, emitted as `run:progress`. */
export class ProgressReporter {
  #sent = 0;
  #elsewhere = 0;
  #total: number;
  readonly #started: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly events: DigestEmitter,
    private readonly job: string,
    private readonly slot: Date,
    total: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.#total = total;
    this.#started = clock();
  }

  start(): void {
    this.#timer = setInterval(() => this.emit(), PROGRESS_EVERY_MS);
    this.#timer.unref?.();
    this.emit();
  }

  /** One message done (posted now, or found delivered earlier). */
  sent(): void {
    this.#sent++;
  }

  /** Messages other replicas delivered of a fan-out shared with them (their done chunks). */
  elsewhere(n: number): void {
    this.#elsewhere = n;
  }

  /** A planned message that turned out not to be sent (empty render, unsubscribed recipient). */
  dropped(): void {
    this.#total = Math.max(this.#sent + this.#elsewhere, this.#total - 1);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.emit(true);
  }

  emit(done = false): void {
    const elapsedMs = Math.max(1, this.clock() - this.#started);
    const sent = Math.min(this.#total, this.#sent + this.#elsewhere);
    const ratePerSecond = (sent * 1000) / elapsedMs;
    const left = Math.max(0, this.#total - sent);
    this.events.emit('run:progress', {
      job: this.job,
      slot: this.slot,
      sent,
      total: this.#total,
      ratePerSecond: Math.round(ratePerSecond * 10) / 10,
      etaSeconds: ratePerSecond > 0 ? Math.round(left / ratePerSecond) : null,
      done,
    });
  }
}

/** A progress line for a terminal: `[████░░░░] 1234/10000  48.7/s  ETA 3m 0s`. */
export function formatProgress(p: { sent: number; total: number; ratePerSecond: number; etaSeconds: number | null }, width = 24): string {
  const share = p.total > 0 ? Math.min(1, p.sent / p.total) : 1;
  const full = Math.round(share * width);
  const eta = p.etaSeconds === null ? '—' : p.etaSeconds >= 60 ? `${Math.floor(p.etaSeconds / 60)}m ${p.etaSeconds % 60}s` : `${p.etaSeconds}s`;
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}] ${p.sent}/${p.total}  ${p.ratePerSecond.toFixed(1)}/s  ETA ${eta}`;
}

/**
 * The users a fan-out skips: those who pressed an `unsubscribe` button of this job (kept in the
 * ledger, so every replica and every later run sees it). Read once per run: one query, not one per DM.
 */
export async function unsubscribedUsers(store: StateStore | null, job: string): Promise<ReadonlySet<number>> {
  if (!store) return new Set();
  return new Set(await store.interactions.listUnsubscribed(job));
}
