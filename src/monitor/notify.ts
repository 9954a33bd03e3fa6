/**
 * `notify:` for jobs that are not monitors: whether this run posts, given `when:` and `change_key:`.
 * Pure; the last run's observation is stored in the ledger by the caller.
 *
 * - `always`: post every run (the default without `when:`).
 * - `when_true`: post when `when:` is true (the default with `when:`).
 * - `on_change`: post when the observation differs from the last run's. Before any run the
 *   condition counts as false and the key as unknown: a first run posts when `when:` is true, or
 *   whenever there is a `change_key:`.
 */
export type NotifyPolicy = 'always' | 'when_true' | 'on_change';

export interface Observation {
  /** `when:`'s value; null when the job has no `when:`. */
  active: boolean | null;
  /** Canonical JSON of `change_key:`; null when the job has none. */
  key: string | null;
}

export interface NotifyDecision {
  post: boolean;
  /** Why not, for the run's `skipped` record. */
  reason?: string;
}

export function decideNotify(policy: NotifyPolicy, now: Observation, last: Observation | null): NotifyDecision {
  if (policy === 'always') return { post: true };
  if (policy === 'when_true') return now.active === false ? { post: false, reason: 'when: the condition is false' } : { post: true };
  const before: Observation = last ?? { active: now.active === null ? null : false, key: null };
  const changed = now.active !== before.active || (now.key !== null && now.key !== before.key);
  return changed ? { post: true } : { post: false, reason: 'notify: on_change, nothing changed since the last run' };
}

export function parseObservation(text: string | null): Observation | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as Observation;
    return { active: typeof v.active === 'boolean' ? v.active : null, key: typeof v.key === 'string' ? v.key : null };
  } catch {
    return null;
  }
}
