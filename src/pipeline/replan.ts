/**
 * The messages of an already-run slot, collected and rendered again: what a `refresh` click edits
 * into its message and what a `details` click renders. Same sources, period and `previous` as the
 * slot's run had; posts nothing and claims nothing (the caller orders itself with the message lock).
 */
import type { JobConfig } from '../config/index.js';
import { collectSources } from '../sources/index.js';
import { baseContext, planMessages, type Plan, type RenderContext } from './plan.js';
import type { RunnerDeps } from './run.js';
import { httpAgent, periodFor } from './run-inputs.js';

export interface Replanned {
  context: RenderContext;
  plan: Plan;
}

export async function replanSlot(deps: RunnerDeps, job: JobConfig, slot: Date, signal: AbortSignal): Promise<Replanned> {
  const now = (deps.now ?? (() => new Date()))();
  const previousRun = deps.store ? await deps.store.lastSuccess(job.name, slot) : null;
  const previous = previousRun?.metrics ?? null;
  const period = periodFor(job, slot, previousRun?.slot ?? null);
  const collected = await collectSources(
    job.sources,
    {
      job: { name: job.name, timezone: job.timezone, locale: job.locale },
      period,
      now,
      previous,
      signal,
      logger: deps.logger,
      configDir: deps.config.dir,
      get http() {
        return httpAgent();
      },
      pachca: deps.client,
    },
    { events: deps.events },
  );
  const context = baseContext(job, { metrics: collected.metrics, period, slot, now, previous });
  return { context, plan: planMessages(job, context) };
}
