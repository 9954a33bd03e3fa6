/** Compiled jobs for scheduler tests that drive the Daemon directly (no config file, no pipeline). */
import type { JobConfig } from '../../src/config/types.js';

/** A compiled job (Moscow time, no sources or targets, a constant template); `partial` overrides any field. */
export function job(partial: Partial<JobConfig> & { name: string; schedule: string }): JobConfig {
  return {
    timezone: 'Europe/Moscow',
    locale: 'ru-RU',
    enabled: true,
    sources: [],
    namedSources: false,
    template: { file: 't.hbs', source: '', render: () => 'x' },
    templateFile: 't.hbs',
    targets: [],
    onEmpty: 'skip',
    period: 'slot',
    catchUp: 'latest',
    startingDeadlineMs: 2 * 3_600_000,
    concurrency: 'forbid',
    timeoutMs: 600_000,
    retries: { count: 0, backoffMs: 60_000 },
    delivery: 'new',
    splitToThread: false,
    position: { file: 'jobs.config.yaml', line: 1, column: 1, path: 'jobs[0]' },
    ...partial,
  } as JobConfig;
}
