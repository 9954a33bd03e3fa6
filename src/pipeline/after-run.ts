/**
 * What happens once a run has an outcome: failure/recovery alerts (once, not every minute),
 * the heartbeat ping, and ledger retention. Failures here are logged, never fatal to the run.
 */
import type { JobConfig, LoadedConfig } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { PachcaClient } from '../pachca/index.js';
import type { StateStore } from '../state/index.js';
import type { RunOutcome } from './run.js';

export interface AfterRunInput {
  config: LoadedConfig;
  job: JobConfig;
  outcome: RunOutcome;
  store: StateStore | null;
  client: () => PachcaClient;
  logger: Logger;
}

export async function afterRun({ config, job, outcome, store, client, logger }: AfterRunInput): Promise<void> {
  if (outcome.status !== 'succeeded' && outcome.status !== 'failed' && outcome.status !== 'skipped') return;
  const log = logger.child({ job: job.name, slot: outcome.slot.toISOString() });

  const alerts = job.alerts ?? config.alerts;
  if (alerts && store) {
    try {
      const { evaluateAlert, formatAlert } = await import('../observability/alerts.js');
      const flagKey = `alerting:${job.name}`;
      const previouslyAlerting = (await store.getFlag(flagKey)) === '1';
      const consecutiveFailures = outcome.status === 'failed' ? await store.consecutiveFailures(job.name) : 0;
      const { send: kind, alerting } = evaluateAlert({ status: outcome.status, consecutiveFailures, previouslyAlerting, after: alerts.after, on: alerts.on });
      if (kind) {
        const content = formatAlert(kind, {
          job: job.name,
          slot: outcome.slot,
          error: outcome.error?.message ?? null,
          code: outcome.error?.code ?? null,
          hint: outcome.error?.hint ?? null,
          timezone: job.timezone,
          locale: job.locale,
        });
        await client().createMessage({
          entity_type: alerts.target.kind === 'chat' ? 'discussion' : 'user',
          entity_id: alerts.target.id,
          content,
        });
        log.info({ alert: kind }, 'alert sent');
      }
      if (alerting !== previouslyAlerting) await store.setFlag(flagKey, alerting ? '1' : null);
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'could not send the alert');
    }
  }

  const heartbeat = job.heartbeatUrl ?? config.heartbeatUrl;
  // A skipped run (nothing to report today) is still a healthy run for a dead-man's switch.
  if (heartbeat && (outcome.status === 'succeeded' || outcome.status === 'skipped')) {
    const { pingHeartbeat } = await import('../observability/alerts.js');
    await pingHeartbeat(heartbeat, { logger: log });
  }

  if (store && pruneDue(store)) {
    try {
      const removed = await store.prune({
        keepRuns: config.state.retention.runs,
        olderThan: new Date(Date.now() - config.state.retention.days * 86_400_000),
      });
      if (removed > 0) log.debug({ removed }, 'pruned old runs');
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not prune the ledger');
    }
  }
}

/**
 * Retention is enforced at most every few minutes per ledger: a daemon finishing a thousand runs
 * in one minute would otherwise scan the runs table a thousand times. A one-shot run-job prunes once.
 */
const PRUNE_EVERY_MS = 5 * 60_000;
const lastPrune = new WeakMap<StateStore, number>();
function pruneDue(store: StateStore): boolean {
  const now = Date.now();
  const last = lastPrune.get(store);
  if (last !== undefined && now - last < PRUNE_EVERY_MS) return false;
  lastPrune.set(store, now);
  return true;
}
