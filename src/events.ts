/**
 * Typed lifecycle events. One emitter per process feeds logs, metrics and tests, so none of them
 * has to reach into the code that does the work.
 */
/** Pachca's documented limit groups (the client's pacing classes). */
export type PachcaRequestClass = 'messageWrite' | 'messageRead' | 'eventHistory' | 'other' | 'token';

export interface DigestEvents {
  'run:start': { job: string; slot: Date; attempt: number };
  'run:end': {
    job: string;
    slot: Date;
    /** interrupted: the process was stopping; the claim was handed back for the next process to finish. */
    status: 'succeeded' | 'failed' | 'skipped' | 'interrupted';
    durationMs: number;
    attempts: number;
    messageIds: number[];
    reason?: string;
    /** Things the user should know about a run that still went out (a source left out, rows cut). */
    notes?: string[];
    error?: { code: string; message: string; hint?: string };
  };
  /** A fan-out's progress, about every second while it posts, and once more when it ends (`done`). */
  'run:progress': { job: string; slot: Date; sent: number; total: number; ratePerSecond: number; etaSeconds: number | null; done: boolean };
  /** The slot's run in the ledger is not ours: still running elsewhere, or already finished (when, after how many attempts). */
  'run:claimed-elsewhere': { job: string; slot: Date; status: string; owner?: string; attempts?: number; finishedAt?: Date | null; leaseUntil?: Date };
  /** This process delivered chunks of a fan-out whose slot another replica claimed (a shared fan-out). */
  'run:helped': { job: string; slot: Date; owner: string; chunks: number; messages: number };
  'source:end': { job: string; source: string; durationMs: number; ok: boolean; error?: string };
  'pachca:request': {
    method: string;
    path: string;
    status: number | 'error';
    durationMs: number;
    /** The limiter's bucket key (`messageWrite:chat:101`): per chat, so unbounded — never a metric label. */
    bucket: string;
    attempt: number;
    /** The request class (bounded: the label for metrics). Optional: older emitters omit it. */
    class?: PachcaRequestClass;
  };
  'pachca:rate-limited': { method: string; path: string; bucket: string; retryAfterMs: number; class?: PachcaRequestClass };
  'pachca:retry': { method: string; path: string; attempt: number; delayMs: number; reason: string };
  'pachca:paused': { bucket: string; untilMs: number; class?: PachcaRequestClass };
  'pachca:limiter-wait': { bucket: string; waitedMs: number; class?: PachcaRequestClass };
  'pachca:breaker': { state: 'open' | 'closed' };
  'pachca:deduplicated': { chatId: number; messageId: number };
  /** A monitor's alert changed: posted, edited with fresh numbers, reminded in its thread, resolved. */
  'monitor:transition': { job: string; action: 'post' | 'edit' | 'remind' | 'resolve'; messageId: number | null; phase: string };
  /** A link preview was sent (or failed, with the reason) for one shared URL. */
  'unfurl:preview': { messageId: number; url: string; job: string; ok: boolean; reason?: string };
  'scheduler:tick': { at: Date };
  'scheduler:next': { job: string; at: Date | null };
  'config:reloaded': { file: string; jobs: number };
  /** A button action started (after deduplication): one per click. */
  'interaction:action': { job: string; action: string; messageId: number; userId: number };
  /** One event taken in: handled, a duplicate skipped, ignored (no handler) or failed (to be retried). */
  'interaction:event': { type: string; via: 'history' | 'webhook'; outcome: 'handled' | 'duplicate' | 'ignored' | 'failed' };
  'config:reload-failed': { file: string; error: string };
}

type Listener<T> = (payload: T) => void;

export class Emitter<E extends { [K in keyof E]: unknown } = DigestEvents> {
  #listeners = new Map<keyof E, Set<Listener<any>>>();

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const l of set) {
      // A broken listener (a log sink, a metric) must never break the run that emitted.
      try {
        l(payload);
      } catch {
        /* ignored on purpose */
      }
    }
  }
}

export type DigestEmitter = Emitter<DigestEvents>;
