/**
 * The sandbox page's "Задания" view: the config's jobs with their next runs, and "Run now",
 * which runs a job into the sandbox through the same pipeline as every other run.
 */
import type { LoadedConfig } from '../config/index.js';
import type { WebJobsProvider } from '../sandbox/index.js';
import { describeCron, nextSlots, parseCron } from '../scheduler/index.js';
import type { RunOutcome } from '../pipeline/index.js';

export function webJobsProvider(
  config: () => LoadedConfig,
  runNow: (jobName: string, slot: Date) => Promise<RunOutcome>,
  now: () => Date = () => new Date(),
): WebJobsProvider {
  return {
    async list() {
      return config().jobs.map((job) => {
        const schedule = parseCron(job.schedule);
        return {
          name: job.name,
          ...(job.description ? { description: job.description } : {}),
          schedule: job.schedule,
          scheduleText: describeCron(schedule),
          timezone: job.timezone,
          enabled: job.enabled,
          next: job.enabled ? nextSlots(schedule, job.timezone, now(), 3).map((d) => d.toISOString()) : [],
        };
      });
    },
    async runNow(name) {
      // A manual run is its own slot (now, to the second), so it never marks a scheduled slot done.
      const slot = new Date(Math.floor(now().getTime() / 1000) * 1000);
      const outcome = await runNow(name, slot);
      return {
        status: outcome.status,
        messageIds: outcome.delivered.map((d) => d.messageId),
        ...(outcome.error ? { error: outcome.error.format() } : outcome.reason ? { error: outcome.reason } : {}),
      };
    },
  };
}
