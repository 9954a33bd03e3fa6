/**
 * The alert lifecycle of a monitor, as a pure state machine: one observation of the condition in,
 * the next state and what to do with the alert message out. "Now" is an argument; the state is
 * plain JSON, so it is stored in the ledger between runs and a restart resumes exactly where the
 * last run left off. This is the only place that decides when an alert fires, repeats or resolves.
 *
 *   ok ──true──► pending (for: not yet held) ──held for `for`──► firing ──false──► ok
 *    ▲               │ false (a flap: nothing was posted)          │ true: edit; every `repeat`: remind
 *    └───────────────┘                                             └─ acknowledged: no reminders
 */

export type MonitorPhase = 'ok' | 'pending' | 'firing';

export interface MonitorState {
  phase: MonitorPhase;
  /** When the condition was first seen true in this episode (epoch ms): `for` and «длилось» count from it. */
  activeSince: number | null;
  firedAt: number | null;
  lastReminderAt: number | null;
  /** The alert message, once posted. */
  message: { id: number; chatId: number | null } | null;
  /** From the `acknowledge` button: shown on the alert, silences reminders. */
  acknowledged: { by: string; at: number } | null;
}

export interface MonitorSettings {
  /** How long the condition must hold before the alert fires (Prometheus' `for`); 0 fires at once. */
  forMs: number;
  /** Remind in the alert's thread this often while it fires and nobody acknowledged; null: never. */
  repeatMs: number | null;
}

export type MonitorAction =
  | { kind: 'post' }
  | { kind: 'edit' }
  | { kind: 'remind' }
  | { kind: 'resolve'; durationMs: number };

export interface MonitorStep {
  state: MonitorState;
  actions: MonitorAction[];
}

export const INITIAL_MONITOR_STATE: Readonly<MonitorState> = Object.freeze({
  phase: 'ok',
  activeSince: null,
  firedAt: null,
  lastReminderAt: null,
  message: null,
  acknowledged: null,
});

export function stepMonitor(prev: MonitorState | null, active: boolean, now: number, s: MonitorSettings): MonitorStep {
  const state: MonitorState = { ...(prev ?? INITIAL_MONITOR_STATE) };
  if (!active) {
    if (state.phase === 'firing') {
      const durationMs = now - (state.activeSince ?? state.firedAt ?? now);
      // Nothing was posted (the post failed and was never recorded): nothing to resolve.
      const actions: MonitorAction[] = state.message ? [{ kind: 'resolve', durationMs }] : [];
      return { state: { ...INITIAL_MONITOR_STATE, message: state.message }, actions };
    }
    return { state: { ...INITIAL_MONITOR_STATE, message: state.message }, actions: [] };
  }

  if (state.phase === 'ok') {
    state.phase = 'pending';
    state.activeSince = now;
    state.acknowledged = null;
  }
  if (state.phase === 'pending') {
    if (now - state.activeSince! < s.forMs) return { state, actions: [] };
    state.phase = 'firing';
    state.firedAt = now;
    state.lastReminderAt = null;
    state.message = null;
    return { state, actions: [{ kind: 'post' }] };
  }
  // firing
  if (!state.message) return { state, actions: [{ kind: 'post' }] };
  const actions: MonitorAction[] = [{ kind: 'edit' }];
  const since = state.lastReminderAt ?? state.firedAt ?? now;
  if (s.repeatMs !== null && !state.acknowledged && now - since >= s.repeatMs) {
    actions.push({ kind: 'remind' });
    state.lastReminderAt = now;
  }
  return { state, actions };
}

/** Someone pressed «Принято» on the alert. Only a firing alert can be acknowledged. */
export function acknowledgeMonitor(prev: MonitorState | null, by: string, now: number): MonitorState | null {
  if (!prev || prev.phase !== 'firing' || prev.acknowledged) return prev;
  return { ...prev, acknowledged: { by, at: now } };
}

/** The state after the alert was posted: remember the message to edit later. */
export function withMessage(state: MonitorState, message: { id: number; chatId: number | null }): MonitorState {
  return { ...state, message };
}

/** Read a stored state; anything unreadable starts over as "ok" (a resolved alert is never re-posted from it). */
export function parseMonitorState(text: string | null): MonitorState | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as Partial<MonitorState>;
    if (v.phase !== 'ok' && v.phase !== 'pending' && v.phase !== 'firing') return null;
    return { ...INITIAL_MONITOR_STATE, ...v } as MonitorState;
  } catch {
    return null;
  }
}
