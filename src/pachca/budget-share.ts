/**
 * Replicas of one token share its ~50 req/s. Pachca counts per token, so two daemons each pacing
 * themselves to 50 req/s are 100 req/s to Pachca. Each process beats in the ledger it already shares
 * with the others and takes an equal part of the token-wide ceiling: a sending process shares with
 * the others sending (one busy replica keeps the whole budget), an idle one holds the part it would
 * have if every live replica started at once — so three daemons firing the same slot together never
 * start at three full budgets.
 */
import type { RateLimiter } from './limiter.js';

export const BUDGET_SHARE_DEFAULTS = {
  /** How often a process beats and re-reads how many are sending. */
  intervalMs: 1_000,
  /** A replica not heard from for this long no longer counts (it died). */
  ttlMs: 3_500,
  /** The pause before the second beat at start, so processes started together see each other. */
  settleMs: 500,
} as const;

export type BeatState = 'active' | 'idle' | 'gone';

export interface BudgetShareOptions {
  limiter: Pick<RateLimiter, 'setTokenShare' | 'takeTokenActivity'>;
  /** Records this process's state; answers how many beat within `ttlMs`: sending, and alive (itself included). */
  beat(state: BeatState, ttlMs: number): Promise<{ active: number; alive: number }>;
  intervalMs?: number;
  ttlMs?: number;
  settleMs?: number;
  /** A failed beat (the ledger is down): the last share stays. */
  onError?(err: unknown): void;
  onShare?(share: number, counts: { active: number; alive: number }): void;
}

/** The part of the token-wide budget this process may use. */
export function shareFor(selfActive: boolean, counts: { active: number; alive: number }): number {
  return 1 / Math.max(1, selfActive ? counts.active : counts.alive);
}

export interface BudgetShare {
  /** The first beat is in: the share is known before anything is sent. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export function startBudgetShare(o: BudgetShareOptions): BudgetShare {
  const intervalMs = o.intervalMs ?? BUDGET_SHARE_DEFAULTS.intervalMs;
  const ttlMs = o.ttlMs ?? BUDGET_SHARE_DEFAULTS.ttlMs;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = 1;
  const tick = async () => {
    try {
      const active = o.limiter.takeTokenActivity();
      const counts = await o.beat(active ? 'active' : 'idle', ttlMs);
      const share = shareFor(active, counts);
      if (share !== last) o.onShare?.(share, counts);
      last = share;
      o.limiter.setTokenShare(share);
    } catch (err) {
      o.onError?.(err);
    }
  };
  // Processes started together (CronJob pods at 09:00) beat a few hundred ms apart: the first would
  // see itself alone and take the whole budget. A second beat after settleMs sees them all.
  const settleMs = o.settleMs ?? BUDGET_SHARE_DEFAULTS.settleMs;
  let current: Promise<void> = tick().then(() => new Promise<void>((r) => setTimeout(r, settleMs))).then(() => (stopped ? undefined : tick()));
  const ready = current;
  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = tick().finally(loop);
    }, intervalMs);
    timer.unref();
  };
  void ready.finally(loop);
  return {
    ready,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
      // Leaving: the others stop counting this process at once, not after ttlMs.
      await o.beat('gone', ttlMs).catch(() => undefined);
    },
  };
}
