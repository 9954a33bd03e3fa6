/**
 * Prometheus metrics fed by DigestEvents. prom-client is loaded with this file, so only the daemon
 * started with `--http-port` pays for it: import this module dynamically
 * (`await import('../observability/metrics.js')`), never from the observability index.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DigestEmitter, PachcaRequestClass } from '../events.js';

export interface MetricsOptions {
  /** Default: a fresh registry (never prom-client's global one, so tests and reloads do not clash). */
  registry?: Registry;
  /** Node process metrics (memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /** Job names whose run counters start at 0, so `increase()` alerts see the job before its first run. */
  jobs?: string[];
  /** Clock for the "last success" gauge; injected by tests. */
  now?: () => number;
}

export interface Metrics {
  registry: Registry;
  /** Content-Type of `metrics()`'s text. */
  contentType: string;
  /** The text exposition format. */
  metrics(): Promise<string>;
  /** Unsubscribe from the events (the registry keeps its last values). */
  stop(): void;
}

export const METRICS_PREFIX = 'pachca_digest_';

/** Seconds. Digests take from a fraction of a second to several minutes (slow SQL, retries). */
const RUN_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const REQUEST_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const REQUEST_CLASSES: readonly PachcaRequestClass[] = ['messageWrite', 'messageRead', 'eventHistory', 'other', 'token'];

/**
 * The `class` label of a Pachca event. The bucket key is per chat (`messageWrite:chat:101`), an
 * unbounded label; the class is one of four. Events without `class` (older emitters) fall back to
 * the key's prefix, anything unknown to `other`, so no input can grow the series count.
 */
export function requestClass(e: { class?: string; bucket?: string }): PachcaRequestClass {
  const c = e.class ?? e.bucket?.split(':')[0];
  return (REQUEST_CLASSES as readonly string[]).includes(c ?? '') ? (c as PachcaRequestClass) : 'other';
}

export function createMetrics(events: DigestEmitter, options: MetricsOptions = {}): Metrics {
  const registry = options.registry ?? new Registry();
  const now = options.now ?? Date.now;
  const p = METRICS_PREFIX;
  const registers = [registry];
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: p });

  const runs = new Counter({ name: `${p}runs_total`, help: 'Finished runs by job and status', labelNames: ['job', 'status'], registers });
  const runDuration = new Histogram({
    name: `${p}run_duration_seconds`,
    help: 'Run duration, start to end, retries included',
    labelNames: ['job', 'status'],
    buckets: RUN_BUCKETS,
    registers,
  });
  const runStarts = new Counter({ name: `${p}run_attempts_total`, help: 'Run attempts started (retries included)', labelNames: ['job'], registers });
  const claimedElsewhere = new Counter({
    name: `${p}runs_claimed_elsewhere_total`,
    help: 'Slots skipped because another process had claimed them',
    labelNames: ['job'],
    registers,
  });
  const lastSuccess = new Gauge({
    name: `${p}last_success_timestamp_seconds`,
    help: 'Unix time of the last successful run per job',
    labelNames: ['job'],
    registers,
  });
  const lastFailure = new Gauge({
    name: `${p}last_failure_timestamp_seconds`,
    help: 'Unix time of the last failed run per job',
    labelNames: ['job'],
    registers,
  });
  const nextRun = new Gauge({ name: `${p}next_run_timestamp_seconds`, help: 'Unix time of the next scheduled run per job', labelNames: ['job'], registers });
  const sources = new Counter({ name: `${p}source_runs_total`, help: 'Data source collections by job, source and result', labelNames: ['job', 'source', 'result'], registers });
  const sourceDuration = new Histogram({
    name: `${p}source_duration_seconds`,
    help: 'Data source collection time',
    labelNames: ['job', 'source'],
    buckets: RUN_BUCKETS,
    registers,
  });
  // Neither the path nor the limiter's bucket key is a label: both carry ids (unbounded
  // cardinality). The request class (Pachca's limit group, four values) names the kind.
  const requests = new Counter({ name: `${p}pachca_requests_total`, help: 'Pachca API requests by class, method and status', labelNames: ['class', 'method', 'status'], registers });
  const requestDuration = new Histogram({
    name: `${p}pachca_request_duration_seconds`,
    help: 'Pachca API request time (one attempt), by class',
    labelNames: ['class'],
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const rateLimited = new Counter({ name: `${p}pachca_rate_limited_total`, help: 'Pachca 429 answers by class', labelNames: ['class'], registers });
  const limiterWait = new Counter({
    name: `${p}pachca_limiter_wait_seconds_total`,
    help: 'Time spent waiting for the client-side rate limiter, by class',
    labelNames: ['class'],
    registers,
  });
  const retries = new Counter({ name: `${p}pachca_retries_total`, help: 'Pachca request retries by method', labelNames: ['method'], registers });
  const paused = new Counter({ name: `${p}pachca_paused_total`, help: 'Times a bucket was paused by Retry-After, by class', labelNames: ['class'], registers });
  const breakerOpen = new Gauge({ name: `${p}pachca_breaker_open`, help: '1 while the 429 circuit breaker slows the token down', registers });
  const deduplicated = new Counter({ name: `${p}pachca_deduplicated_total`, help: 'Ambiguous POSTs found already delivered (not re-sent)', registers });
  const lastTick = new Gauge({ name: `${p}scheduler_last_tick_timestamp_seconds`, help: 'Unix time of the last scheduler tick', registers });
  const reloads = new Counter({ name: `${p}config_reloads_total`, help: 'Configuration reloads by result', labelNames: ['result'], registers });
  const configJobs = new Gauge({ name: `${p}config_jobs`, help: 'Jobs in the loaded configuration', registers });

  const fanoutSent = new Gauge({ name: `${p}fanout_sent`, help: 'Messages of the running (or last) fan-out sent so far, by job', labelNames: ['job'], registers });
  const fanoutTotal = new Gauge({ name: `${p}fanout_total`, help: 'Messages the running (or last) fan-out plans, by job', labelNames: ['job'], registers });
  const fanoutRate = new Gauge({ name: `${p}fanout_rate_per_second`, help: 'Send rate of the running fan-out (0 when it ended), by job', labelNames: ['job'], registers });

  const offs = [
    events.on('run:progress', (e) => {
      fanoutSent.set({ job: e.job }, e.sent);
      fanoutTotal.set({ job: e.job }, e.total);
      fanoutRate.set({ job: e.job }, e.done ? 0 : e.ratePerSecond);
    }),
    events.on('run:start', (e) => runStarts.inc({ job: e.job })),
    events.on('run:end', (e) => {
      runs.inc({ job: e.job, status: e.status });
      runDuration.observe({ job: e.job, status: e.status }, e.durationMs / 1000);
      if (e.status === 'succeeded') lastSuccess.set({ job: e.job }, now() / 1000);
      if (e.status === 'failed') lastFailure.set({ job: e.job }, now() / 1000);
    }),
    events.on('run:claimed-elsewhere', (e) => claimedElsewhere.inc({ job: e.job })),
    events.on('source:end', (e) => {
      sources.inc({ job: e.job, source: e.source, result: e.ok ? 'ok' : 'error' });
      sourceDuration.observe({ job: e.job, source: e.source }, e.durationMs / 1000);
    }),
    events.on('pachca:request', (e) => {
      requests.inc({ class: requestClass(e), method: e.method.toUpperCase(), status: String(e.status) });
      requestDuration.observe({ class: requestClass(e) }, e.durationMs / 1000);
    }),
    events.on('pachca:rate-limited', (e) => rateLimited.inc({ class: requestClass(e) })),
    events.on('pachca:limiter-wait', (e) => limiterWait.inc({ class: requestClass(e) }, Math.max(0, e.waitedMs) / 1000)),
    events.on('pachca:retry', (e) => retries.inc({ method: e.method.toUpperCase() })),
    events.on('pachca:paused', (e) => paused.inc({ class: requestClass(e) })),
    events.on('pachca:breaker', (e) => breakerOpen.set(e.state === 'open' ? 1 : 0)),
    events.on('pachca:deduplicated', () => deduplicated.inc()),
    events.on('scheduler:tick', (e) => lastTick.set(e.at.getTime() / 1000)),
    events.on('scheduler:next', (e) => {
      // A job with no next run (disabled, removed on reload) must not keep a stale value.
      if (e.at) nextRun.set({ job: e.job }, e.at.getTime() / 1000);
      else nextRun.remove({ job: e.job });
    }),
    events.on('config:reloaded', (e) => {
      reloads.inc({ result: 'ok' });
      configJobs.set(e.jobs);
    }),
    events.on('config:reload-failed', () => reloads.inc({ result: 'error' })),
  ];
  // Series exist at 0 from the start, so `rate()` and absence alerts work before the first event.
  reloads.inc({ result: 'ok' }, 0);
  reloads.inc({ result: 'error' }, 0);
  breakerOpen.set(0);
  // The loaded config's size is known from the start; reloads update it.
  if (options.jobs) configJobs.set(options.jobs.length);
  for (const job of options.jobs ?? []) {
    for (const status of ['succeeded', 'failed', 'skipped']) runs.inc({ job, status }, 0);
  }
  deduplicated.inc(0);

  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
    stop: () => {
      for (const off of offs) off();
    },
  };
}
