/**
 * Every default of jobs.config.yaml in one place, in config units (durations as strings).
 * The Pachca client's own defaults stay in src/pachca/defaults.ts and are converted here, so the
 * two can never disagree. docs/configuration.md is generated from the schema that reads these.
 */
import { CLIENT_DEFAULTS, DEFAULT_BASE_URL } from '../pachca/defaults.js';

/** `60000` → `"1m"`, `500` → `"500ms"`: the shortest exact spelling, for docs and JSON Schema. */
export function msToConfigDuration(ms: number): string {
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  for (const [unit, size] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

const rl = CLIENT_DEFAULTS.rateLimits;
const bucket = (b: { perSecond: number; burst: number }) => ({ per_second: b.perSecond, burst: b.burst });

export const CONFIG_DEFAULTS = {
  configFile: 'jobs.config.yaml',
  pachca: {
    baseUrl: DEFAULT_BASE_URL,
    rateLimits: {
      message_write: bucket(rl.messageWrite),
      message_read: bucket(rl.messageRead),
      event_history: bucket(rl.eventHistory),
      other: bucket(rl.other),
      token: bucket(rl.token),
      breaker_threshold: rl.breakerThreshold,
      breaker_slowdown: rl.breakerSlowdown,
      breaker_cooldown: msToConfigDuration(rl.breakerCooldownMs),
    },
    retry: {
      retries: CLIENT_DEFAULTS.retry.retries,
      base_delay: msToConfigDuration(CLIENT_DEFAULTS.retry.baseDelayMs),
      max_delay: msToConfigDuration(CLIENT_DEFAULTS.retry.maxDelayMs),
      rate_limit_retries: CLIENT_DEFAULTS.retry.rateLimitRetries!,
      min_retry_after: msToConfigDuration(CLIENT_DEFAULTS.retry.minRetryAfterMs!),
      max_retry_after: msToConfigDuration(CLIENT_DEFAULTS.retry.maxRetryAfterMs),
      max_total: msToConfigDuration(CLIENT_DEFAULTS.retry.maxTotalMs),
      dedupe_lookback: CLIENT_DEFAULTS.retry.dedupeLookback,
      settle: msToConfigDuration(CLIENT_DEFAULTS.retry.settleMs!),
    },
    timeouts: {
      connect: msToConfigDuration(CLIENT_DEFAULTS.timeouts.connectMs),
      headers: msToConfigDuration(CLIENT_DEFAULTS.timeouts.headersMs),
      body: msToConfigDuration(CLIENT_DEFAULTS.timeouts.bodyMs),
      request: msToConfigDuration(CLIENT_DEFAULTS.timeouts.requestMs),
    },
    maxMessageBytes: CLIENT_DEFAULTS.maxMessageBytes,
  },
  state: {
    url: 'sqlite:.pachca-digest/state.db',
    lease: '10m',
    // Under Kubernetes' default terminationGracePeriodSeconds (30 s), leaving time to hand claims back.
    shutdownGrace: '25s',
    retention: { runs: 500, days: 90 },
  },
  templatesDir: 'templates',
  job: {
    timezone: 'Europe/Moscow',
    locale: 'ru-RU',
    enabled: true,
    catchUp: 'latest',
    startingDeadline: '2h',
    concurrency: 'forbid',
    timeout: '10m',
    retries: { count: 0, backoff: '1m' },
    period: 'slot',
    onEmpty: 'skip',
    delivery: 'new',
    splitToThread: false,
  },
  source: { timeout: '30s', retries: 1 },
  alerts: { on: ['failure', 'recovery'] as Array<'failure' | 'recovery'>, after: 1 },
  events: { mode: 'poll' as 'poll' | 'webhook', pollInterval: '5s', path: '/pachca/webhook', maxAge: '60s' },
  limits: { buttonsPerRow: 8, buttonsTotal: 100, displayFieldMax: 255, buttonTextMax: 255 },
  /** Environment variables that override the file (a non-empty value wins). */
  env: {
    config: 'PACHCA_DIGEST_CONFIG',
    token: 'PACHCA_TOKEN',
    baseUrl: 'PACHCA_API_URL',
    state: 'PACHCA_DIGEST_STATE',
    /** The bot's webhook signing secret (`events.mode: webhook`). */
    webhookSecret: 'PACHCA_WEBHOOK_SECRET',
  },
} as const;
