/**
 * The `version: 1` schema of jobs.config.yaml: the single definition behind validation,
 * jobs.schema.json and docs/configuration.md. Every field carries `.describe()` because the
 * reference is generated from it.
 *
 * Checks that need more than one field (exactly one of source/sources, target ids, duplicate
 * names) or other modules (source plugins, templates) live in load.ts: zod skips object-level
 * refinements once a child failed, and we want every problem reported in one pass.
 */
import { z } from 'zod';
import { parseDuration } from '../util/index.js';
import { CONFIG_DEFAULTS as D } from './defaults.js';
import { checkCron, checkLocale, checkTimeZone, type FieldProblem } from './checks.js';
import { attachmentsSchema } from './attachments.js';
import { actionButtonSchema, eventsSchema } from './schema-events.js';

export const DURATION_HINT = 'write a duration like "30s", "10m", "1h30m", "500ms" or a number of seconds';
/** For editors only (JSON Schema); the loader itself uses parseDuration. */
export const DURATION_PATTERN = '^\\s*((\\d+(\\.\\d+)?\\s*(ms|s|m|h|d|w))+|\\d+(\\.\\d+)?)\\s*$';
export const JOB_NAME_PATTERN = /^[a-z0-9][a-z0-9-_]*$/;
export const SOURCE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const DOTTED_PATH_PATTERN = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*|\[\d+\])*$/;

export const CATCH_UP = ['latest', 'all', 'none'] as const;
export const CONCURRENCY = ['forbid', 'allow', 'replace'] as const;
export const PERIODS = ['slot', 'previous_day', 'previous_week', 'previous_month', 'last_24h', 'since_last_success'] as const;
export const DELIVERY = ['new', 'update'] as const;
export const ON_EMPTY = ['skip', 'send'] as const;
export const ALERT_ON = ['failure', 'recovery'] as const;
export const NOTIFY = ['always', 'when_true', 'on_change'] as const;

/** Keys every source entry accepts besides its own options. */
export const SOURCE_COMMON_KEYS = ['type', 'optional', 'timeout', 'retries'] as const;

/** A duration in config: "30s", "2m", "1h30m" or a number of seconds → milliseconds. */
export function duration() {
  return z
    .union([z.string().meta({ pattern: DURATION_PATTERN }), z.number().nonnegative()], {
      error: 'expected a duration',
    })
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a duration`, params: { hint: DURATION_HINT } });
        return z.NEVER;
      }
      return ms;
    });
}

/** Attach a field check as a zod refinement (runs whenever the field itself is a string). */
function checked(check: (v: string) => FieldProblem | undefined) {
  return z.string().superRefine((v, ctx) => {
    const p = check(v);
    if (p) ctx.addIssue({ code: 'custom', message: p.message, params: { hint: p.hint } });
  });
}
const timeZone = () => checked(checkTimeZone);
const locale = () => checked(checkLocale);

const positiveInt = () => z.number().int().positive();
const nonNegInt = () => z.number().int().nonnegative();
const httpUrl = () => z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

/** A chat/user/thread id: a positive integer, a numeric string or a template like "{{item.chat_id}}". */
const targetId = () =>
  z.union([positiveInt(), z.string().min(1)], { error: 'expected a positive integer id or a template string' });

function bucketSchema(name: string, d: { per_second: number; burst: number }) {
  return z
    .strictObject({
      per_second: z.number().positive().default(d.per_second).describe(`Sustained ${name} requests per second`),
      burst: positiveInt().default(d.burst).describe(`${name} requests allowed at once after a quiet period`),
    })
    .prefault({});
}

function pachcaSchema() {
  const r = D.pachca.rateLimits;
  const t = D.pachca.retry;
  const to = D.pachca.timeouts;
  return z
    .strictObject({
      token: z
        .string()
        .optional()
        .describe(
          'Bot API token. Default: the PACHCA_TOKEN environment variable (a non-empty PACHCA_TOKEN always wins). ' +
            'Prefer `${PACHCA_TOKEN}` over writing the token into the file. Without a token, posting commands use the sandbox',
        ),
      base_url: httpUrl()
        .default(D.pachca.baseUrl)
        .describe('Pachca API base URL; the PACHCA_API_URL environment variable overrides it'),
      rate_limits: z
        .strictObject({
          message_write: bucketSchema('message write (per chat)', r.message_write).describe(
            'Creating, editing and deleting messages; counted per token and chat',
          ),
          message_read: bucketSchema('message read', r.message_read).describe('Reading messages'),
          event_history: bucketSchema('event history', r.event_history).describe('GET /webhooks/events'),
          other: bucketSchema('other', r.other).describe('Every other API method'),
          token: bucketSchema('token-wide', r.token).describe(
            'Every request of the token together (Pachca: ~50 req/s); the buckets above sit inside it',
          ),
          breaker_threshold: positiveInt()
            .default(r.breaker_threshold)
            .describe('Consecutive 429 answers that slow the whole token down'),
          breaker_slowdown: z
            .number()
            .gt(0)
            .max(1)
            .default(r.breaker_slowdown)
            .describe('While slowed down, every bucket runs at this fraction of its rate'),
          breaker_cooldown: duration().prefault(r.breaker_cooldown).describe('How long the slowdown lasts after the last 429'),
        })
        .prefault({})
        .describe('Client-side pacing under the documented Pachca limits'),
      retry: z
        .strictObject({
          retries: nonNegInt().default(t.retries).describe('Retries after a 5xx, connection error or timeout (429s are waited out)'),
          base_delay: duration().prefault(t.base_delay).describe('First backoff; doubles each attempt, with jitter'),
          max_delay: duration().prefault(t.max_delay).describe('Longest single backoff'),
          max_retry_after: duration()
            .prefault(t.max_retry_after)
            .describe('A Retry-After longer than this fails the call instead of waiting'),
          rate_limit_retries: nonNegInt()
            .default(t.rate_limit_retries)
            .describe('429 answers in a row after which a call fails instead of waiting again'),
          min_retry_after: duration()
            .prefault(t.min_retry_after)
            .describe('Shortest wait after a 429, even with Retry-After: 0; doubles with each 429 in a row'),
          max_total: duration().prefault(t.max_total).describe('All attempts of one call, waits included, end within this'),
          dedupe_lookback: positiveInt()
            .default(t.dedupe_lookback)
            .describe('Recent messages read to check whether an unanswered POST went through'),
          settle: duration()
            .prefault(t.settle)
            .describe('After a POST without a clear answer (timeout, 5xx), how long a slow server may take to store the message before the chat is checked and it is sent again'),
        })
        .prefault({})
        .describe('Retries of failed API calls'),
      timeouts: z
        .strictObject({
          connect: duration().prefault(to.connect).describe('TCP/TLS connect timeout'),
          headers: duration().prefault(to.headers).describe('Until the response headers arrive'),
          body: duration().prefault(to.body).describe('Between response body chunks'),
          request: duration().prefault(to.request).describe('One attempt, start to end'),
        })
        .prefault({})
        .describe('HTTP timeouts of one API call'),
      max_message_bytes: z
        .number()
        .int()
        .min(1000)
        .max(40_000)
        .default(D.pachca.maxMessageBytes)
        .describe('Longer messages are split (UTF-8 bytes; Pachca accepts about 40 KB)'),
    })
    .prefault({})
    .describe('Pachca API connection');
}

function stateSchema() {
  return z
    .strictObject({
      url: z
        .string()
        .min(1)
        .default(D.state.url)
        .describe(
          'Run ledger: `sqlite:PATH` (relative to the config directory) or `postgres://USER:PASSWORD@HOST/DB[?schema=NAME]`; ' +
            'the PACHCA_DIGEST_STATE environment variable overrides it',
        ),
      lease: duration().prefault(D.state.lease).describe('How long a claimed run stays owned without a heartbeat'),
      shutdown_grace: duration()
        .prefault(D.state.shutdownGrace)
        .describe('On SIGTERM, how long runs in flight may finish before their claims are handed back as `interrupted` (the next process sends only what is missing)'),
      retention: z
        .strictObject({
          runs: positiveInt().default(D.state.retention.runs).describe('Runs kept per job'),
          days: positiveInt().default(D.state.retention.days).describe('Runs older than this many days are deleted'),
        })
        .prefault({})
        .describe('Pruning of old runs'),
    })
    .prefault({})
    .describe('Where runs are recorded (deduplication, catch-up, `delivery: update`)');
}

function alertsSchema() {
  return z
    .strictObject({
      chat_id: positiveInt().optional().describe('Chat that receives alerts (exactly one of chat_id, user_id)'),
      user_id: positiveInt().optional().describe('User who receives alerts as a direct message'),
      on: z
        .array(z.enum(ALERT_ON))
        .min(1)
        .default([...D.alerts.on])
        .describe('Which transitions to report: `failure`, `recovery`'),
      after: positiveInt().default(D.alerts.after).describe('Consecutive failures before the first alert'),
    })
    .describe('Alerts about failing jobs');
}

function targetDisplayFields() {
  return {
    display_name: z.string().min(1).max(D.limits.displayFieldMax).optional().describe('Sender name shown instead of the bot\'s (bot tokens only, ≤255 chars)'),
    display_avatar_url: httpUrl()
      .max(D.limits.displayFieldMax)
      .optional()
      .describe('Sender avatar URL (bot tokens only, ≤255 chars)'),
    link_preview: z.boolean().optional().describe('Show link previews in the message'),
  };
}

function buttonSchema() {
  return z
    .strictObject({
      text: z.string().min(1).describe('Button label; may use `{{…}}` expressions'),
      url: z.string().min(1).describe('Link the button opens; may use `{{…}}` expressions'),
    })
    .describe('A URL button');
}

/** A URL button or an action button: `url` or `action` decides which. */
function anyButtonSchema() {
  return z.union([buttonSchema(), actionButtonSchema()], { error: 'expected a button: { text, url } or { text, action }' });
}

export function targetSchema() {
  return z
    .strictObject({
      chat_id: targetId().optional().describe('Chat or channel id, or a template such as "{{item.chat_id}}"'),
      user_id: targetId().optional().describe('User id: a direct message'),
      thread_id: targetId().optional().describe('Thread id: a reply in that thread'),
      ...targetDisplayFields(),
      buttons: z
        .array(z.union([anyButtonSchema(), z.array(anyButtonSchema())], { error: 'expected a button ({ text, url } or { text, action }) or a row (list) of buttons' }))
        .optional()
        .describe(`URL and action buttons: a list of buttons (one row) or a list of rows; at most ${D.limits.buttonsPerRow} per row, ${D.limits.buttonsTotal} in total`),
    })
    .describe('Where the message goes: exactly one of chat_id, user_id, thread_id');
}

/** The options common to every source; the source's own options sit beside them. */
export function sourceCommonShape() {
  return {
    type: z.string().min(1).describe('Source type: a built-in name or a plugin module path'),
    optional: z.boolean().default(false).describe('When true, a failure of this source yields `null` instead of failing the job'),
    timeout: duration().prefault(D.source.timeout).describe('Deadline of one collection'),
    retries: nonNegInt().default(D.source.retries).describe('Retries of a failed collection'),
  };
}

/** Validation-time source entry: common keys checked here, the rest by the source's own schema. */
export function looseSourceSchema() {
  return z.looseObject(sourceCommonShape()).describe('A data source');
}

const catchUp = () => z.enum(CATCH_UP);
const concurrency = () => z.enum(CONCURRENCY);
const period = () => z.enum(PERIODS);

function jobRetries() {
  return z
    .strictObject({
      count: nonNegInt().optional().describe(`Retries of a failed run (default: defaults.retries.count, ${D.job.retries.count})`),
      backoff: duration().optional().describe(`Wait before a retry (default: defaults.retries.backoff, ${D.job.retries.backoff})`),
    })
    .describe('Retries of a failed run');
}

export function defaultsSchema() {
  const j = D.job;
  return z
    .strictObject({
      timezone: timeZone().default(j.timezone).describe('IANA time zone of schedules, periods and dates'),
      locale: locale().default(j.locale).describe('Locale of numbers and dates in templates (BCP 47)'),
      target: z
        .strictObject(targetDisplayFields())
        .optional()
        .describe('Fields merged into every target'),
      catch_up: catchUp().default(j.catchUp).describe('Missed slots after downtime: `latest` runs the newest one, `all` every one, `none` skips'),
      starting_deadline: duration()
        .prefault(j.startingDeadline)
        .describe('A slot older than this is not caught up'),
      concurrency: concurrency()
        .default(j.concurrency)
        .describe('A slot due while the previous run still runs: `forbid` skips it, `allow` runs both, `replace` cancels the old run'),
      timeout: duration().prefault(j.timeout).describe('Deadline of one run'),
      retries: z
        .strictObject({
          count: nonNegInt().default(j.retries.count).describe('Retries of a failed run'),
          backoff: duration().prefault(j.retries.backoff).describe('Wait before a retry'),
        })
        .prefault({})
        .describe('Retries of a failed run'),
      period: period().default(j.period).describe('Time range sources collect (see jobs[].period)'),
    })
    .prefault({})
    .describe('Defaults for every job; a job\'s own value wins');
}

/**
 * One job. Fields that `defaults:` can supply have no zod default here, so "not set" stays
 * visible and the merge in load.ts can apply defaults.
 */
export function jobSchema(source: z.ZodType) {
  const j = D.job;
  return z
    .strictObject({
      name: z
        .string()
        .regex(JOB_NAME_PATTERN, { error: 'expected a slug: lowercase letters, digits, "-" and "_", starting with a letter or digit' })
        .describe('Unique job name (slug): used by `run-job NAME`, in logs and in the run ledger'),
      description: z.string().optional().describe('Free text, available to templates as `job.description`'),
      schedule: checked(checkCron).describe('Cron expression (5 fields, or 6 with seconds) or a macro such as `@daily`, in the job time zone'),
      timezone: timeZone().optional().describe(`IANA time zone (default: defaults.timezone, ${j.timezone})`),
      locale: locale().optional().describe(`Locale for numbers and dates (default: defaults.locale, ${j.locale})`),
      enabled: z.boolean().default(j.enabled).describe('Disabled jobs are validated but never scheduled'),
      source: source.optional().describe('The single data source (exactly one of source, sources); its data is `metrics`'),
      sources: z
        .record(z.string().regex(SOURCE_NAME_PATTERN, { error: 'expected an identifier (letters, digits, "_")' }), source)
        .optional()
        .describe('Several named sources, collected concurrently; each result is `metrics.<name>`'),
      template: z.string().min(1).describe('Handlebars template file, relative to templates_dir'),
      target: targetSchema().optional().describe('Where to post (exactly one of target, targets)'),
      targets: z.array(targetSchema()).min(1).optional().describe('Several destinations; each gets the same message'),
      for_each: z
        .string()
        .regex(DOTTED_PATH_PATTERN, { error: 'expected a dotted path like metrics.teams' })
        .optional()
        .describe('Dotted path to an array (e.g. `metrics.teams`): one message per item, available as `item`'),
      key: z
        .string()
        .regex(DOTTED_PATH_PATTERN, { error: 'expected a dotted path like item.team' })
        .optional()
        .describe('With `for_each`: dotted path to a value that names each item for good (e.g. `item.team`), so `delivery: update` edits the same item\'s message when the list is reordered; default: the item\'s position'),
      skip_if: z
        .string()
        .regex(DOTTED_PATH_PATTERN, { error: 'expected a dotted path like metrics.count' })
        .optional()
        .describe('Dotted path: when the value is empty (null, 0, "", [], {}) the run is skipped (see `on_empty`); a path that is not in the data fails the run'),
      on_empty: z.enum(ON_EMPTY).default(j.onEmpty as 'skip').describe('When `skip_if` finds its value empty or a source reports an empty period (e.g. no messages): `skip` the run (recorded as skipped with the reason) or `send` anyway. A template that renders empty text is always skipped'),
      period: period().optional().describe(`Time range the sources collect (default: defaults.period, ${j.period}): slot, previous_day, previous_week, previous_month, last_24h, since_last_success`),
      catch_up: catchUp().optional().describe(`Missed slots after downtime (default: defaults.catch_up, ${j.catchUp})`),
      starting_deadline: duration().optional().describe(`A slot older than this is not caught up (default: defaults.starting_deadline, ${j.startingDeadline})`),
      concurrency: concurrency().optional().describe(`Overlapping runs (default: defaults.concurrency, ${j.concurrency})`),
      timeout: duration().optional().describe(`Deadline of one run (default: defaults.timeout, ${j.timeout})`),
      retries: jobRetries().optional(),
      delivery: z
        .enum(DELIVERY)
        .default(j.delivery as 'new')
        .describe('`new` posts a message each run; `update` edits the message of the previous run'),
      split_to_thread: z
        .boolean()
        .default(j.splitToThread)
        .describe('A long message continues as replies in its thread instead of separate messages'),
      attachments: attachmentsSchema(),
      alerts: alertsSchema().optional().describe('Alerts for this job (replaces the top-level alerts)'),
      heartbeat_url: httpUrl().optional().describe('URL requested (GET) after each successful run (replaces the top-level heartbeat_url)'),
      ...conditionShape(),
    })
    .describe('A scheduled digest');
}

/** `when:`, `notify:`, `change_key:` and `monitor:` (src/monitor/). */
function conditionShape() {
  return {
    when: z
      .string()
      .min(1)
      .optional()
      .describe('JSONata expression over the render context that gives true or false, e.g. `metrics.error_rate > 0.05 or metrics.queue > 100`; see `notify` and `monitor`'),
    notify: z
      .enum(NOTIFY)
      .optional()
      .describe('When a run posts: `always`; `when_true` (the default when `when` is set) while `when` is true; `on_change` when `when` (and/or `change_key`) differs from the last run\'s'),
    change_key: z
      .string()
      .min(1)
      .optional()
      .describe('JSONata expression whose value `notify: on_change` compares with the last run\'s, e.g. `metrics.services[status="down"].name`'),
    monitor: monitorSchema().optional(),
  };
}

function monitorSchema() {
  const settings = z
    .strictObject({
      for: duration().optional().describe('The condition must hold this long before the alert fires (like Prometheus\' `for`); default 0'),
      repeat: duration().optional().describe('While firing and not acknowledged, remind in the alert\'s thread this often, e.g. "4h"'),
      resolved_template: z.string().min(1).optional().describe('Template of the resolved alert (default: «✅ Решено в 10:42, длилось 37 мин»); `monitor.resolved_at`, `monitor.duration_minutes` are available'),
      mentions: z
        .array(z.string().regex(/^@?[A-Za-z0-9_.-]+$/, { error: 'expected a nickname such as @oncall' }))
        .optional()
        .describe('Nicknames mentioned when the alert fires (from the config, never from data), e.g. ["@oncall"]'),
    })
    .describe('Monitor settings');
  return z
    .union([z.literal(true), settings], { error: 'expected `true` or monitor settings { for, repeat, resolved_template, mentions }' })
    .describe('Makes the job a monitor (needs `when`): one alert message while `when` is true, edited with fresh numbers, resolved in place when it becomes false');
}

function unfurlSchema() {
  return z
    .array(
      z
        .strictObject({
          pattern: z
            .string()
            .regex(/^https?:\/\/[^/\s?#]+/, { error: 'expected an http(s) URL pattern such as https://bi.example.ru/sales/daily?date=:date' })
            .describe('URL with `:name` parameters in the path or query, e.g. `https://bi.example.ru/sales/daily?date=:date`'),
          job: z.string().regex(JOB_NAME_PATTERN).describe('Job rendered for the preview (without posting)'),
          slot: z
            .string()
            .min(1)
            .optional()
            .describe('The slot to render: a parameter (`:date`) or a date/time; a date means the latest slot on that day. Default: the latest slot'),
        })
        .describe('A link unfurl rule'),
    )
    .optional()
    .describe('Link previews: when someone shares a matching link, the job is rendered and its numbers are shown as a preview card (Unfurl bots; `link_shared` events)');
}

/**
 * The whole file. `job` is what `jobs` items are checked with: the loader passes `z.unknown()`
 * and validates each job on its own (one bad job must not hide another's errors).
 */
export function configSchema(job: z.ZodType) {
  return z
    .strictObject({
      version: z.literal(1).describe('Config format version; only `1` exists'),
      pachca: pachcaSchema(),
      state: stateSchema(),
      templates_dir: z.string().min(1).default(D.templatesDir).describe('Directory of template files, relative to the config file'),
      defaults: defaultsSchema(),
      alerts: alertsSchema().optional(),
      heartbeat_url: httpUrl().optional().describe('URL requested (GET) after each successful run, for dead-man\'s-switch monitoring'),
      events: eventsSchema().optional(),
      jobs: z.array(job).min(1, { error: 'at least one job is required' }).describe('The jobs'),
      unfurl: unfurlSchema(),
    })
    .describe('pachca-digest configuration (jobs.config.yaml)');
}

export type RawConfig = z.output<ReturnType<typeof configSchema>>;
export type RawJob = z.output<ReturnType<typeof jobSchema>>;
export type RawTarget = z.output<ReturnType<typeof targetSchema>>;
export type RawDefaults = z.output<ReturnType<typeof defaultsSchema>>;
export type RawUnfurl = NonNullable<z.output<ReturnType<typeof unfurlSchema>>>;
export type RawAlerts = z.output<ReturnType<typeof alertsSchema>>;
export type RawSourceCommon = z.output<ReturnType<typeof looseSourceSchema>>;
