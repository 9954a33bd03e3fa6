/**
 * The loaded, validated and compiled configuration: what every later stage consumes.
 * Produced only by `loadConfig` (src/config/load.ts). Durations are milliseconds.
 */
import type { CompiledTemplate } from '../render/index.js';
import type { AttachmentSpec } from '../attachments/index.js';
import type { SourceDefinition } from '../sources/index.js';
import type { RateLimitSettings, RetrySettings, TimeoutSettings } from '../pachca/index.js';
import type { Expression } from '../monitor/index.js';
import type { NotifyPolicy } from '../monitor/index.js';

export type CatchUpPolicy = 'latest' | 'all' | 'none';
export type ConcurrencyPolicy = 'forbid' | 'allow' | 'replace';
export type PeriodPreset =
  | 'slot' // [previous slot, this slot)
  | 'previous_day'
  | 'previous_week'
  | 'previous_month'
  | 'last_24h'
  | 'since_last_success';
export type DeliveryMode = 'new' | 'update';
export type OnEmpty = 'skip' | 'send';

/** Where a config value came from, for errors raised after load (render, delivery). */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
  path: string;
}

export interface UrlButton {
  /** Template text: may use `{{…}}` expressions, rendered with the message context. */
  text: CompiledTemplate;
  url: CompiledTemplate;
}

/** A Pachca `data` button: a click comes back as an event and runs the action. */
export interface ActionButton {
  text: CompiledTemplate;
  action: 'refresh' | 'acknowledge' | 'details' | 'unsubscribe';
  /** `details`: the direct message's template. */
  template?: CompiledTemplate;
}

export type TargetButton = UrlButton | ActionButton;

export function isActionButton(b: TargetButton): b is ActionButton {
  return 'action' in b;
}

export interface EventSettings {
  mode: 'poll' | 'webhook';
  pollIntervalMs: number;
  path: string;
  /** `webhook`: the bot's signing secret (registered as a secret: never printed). */
  signingSecret?: string;
  maxAgeMs: number;
}

export interface TargetSpec {
  /** Exactly one kind; `id` is a number, or a template (fan-out: `{{item.chat_id}}`). */
  kind: 'chat' | 'user' | 'thread';
  id: number | CompiledTemplate;
  displayName?: string;
  displayAvatarUrl?: string;
  linkPreview?: boolean;
  /** Rows of URL and action buttons. */
  buttons: TargetButton[][];
  position: SourcePosition;
}

export interface SourceSpec {
  /** `metrics.<name>` when the job has several sources; `undefined` for the single `source:`. */
  name: string | undefined;
  type: string;
  definition: SourceDefinition<any>;
  /** Parsed by the definition's zod schema. */
  options: unknown;
  optional: boolean;
  timeoutMs: number;
  retries: number;
  position: SourcePosition;
}

export interface AlertSettings {
  target: { kind: 'chat' | 'user'; id: number };
  on: Array<'failure' | 'recovery'>;
  /** Consecutive failures before the first alert. */
  after: number;
}

export interface JobConfig {
  name: string;
  description?: string;
  schedule: string;
  timezone: string;
  locale: string;
  enabled: boolean;
  sources: SourceSpec[];
  /** True when the job used `sources:` (metrics keyed by source name) rather than `source:`. */
  namedSources: boolean;
  template: CompiledTemplate;
  templateFile: string;
  targets: TargetSpec[];
  /** Dotted path into the context (e.g. `metrics.teams`); one message per array item. */
  forEach?: string;
  /** `key:` — dotted path naming each fan-out item in the ledger (default: its index). */
  itemKey?: string;
  skipIf?: string;
  onEmpty: OnEmpty;
  period: PeriodPreset;
  catchUp: CatchUpPolicy;
  startingDeadlineMs: number;
  concurrency: ConcurrencyPolicy;
  timeoutMs: number;
  retries: { count: number; backoffMs: number };
  delivery: DeliveryMode;
  /** Long messages: continuation parts as replies in the first message's thread. */
  splitToThread: boolean;
  /** Files rendered per message (charts, table cards, CSV, XLSX, markdown); empty when none. */
  attachments?: AttachmentSpec[];
  alerts?: AlertSettings;
  heartbeatUrl?: string;
  /** `when:` (JSONata, compiled at load). */
  when?: Expression;
  changeKey?: Expression;
  /** Undefined: `always`. */
  notify?: NotifyPolicy;
  monitor?: MonitorConfig;
  position: SourcePosition;
}

export interface MonitorConfig {
  forMs: number;
  repeatMs: number | null;
  resolvedTemplate?: CompiledTemplate;
  /** Nicknames with the leading @, from the config only. */
  mentions: string[];
}

/** `unfurl:` — a shared link matching `pattern` is previewed with `job`'s rendering. */
export interface UnfurlRule {
  pattern: string;
  /** Lower-case host the pattern is on. */
  domain: string;
  job: string;
  /** `:name` or a literal date/time; undefined: the latest slot. */
  slot?: string;
  position: SourcePosition;
}

export interface PachcaSettings {
  /** Empty when no token is configured: commands that post then use the sandbox. */
  token: string;
  baseUrl: string;
  /** True when base_url came from config/env rather than the default. */
  baseUrlExplicit: boolean;
  rateLimits: RateLimitSettings;
  retry: RetrySettings;
  timeouts: TimeoutSettings;
  maxMessageBytes: number;
}

export interface StateSettings {
  /** `sqlite:PATH` or `postgres://…`; PATH resolved against the config directory. */
  url: string;
  leaseMs: number;
  /** SIGTERM: how long runs in flight may finish before their claims are handed back as interrupted. */
  shutdownGraceMs: number;
  retention: { runs: number; days: number };
}

export interface LoadedConfig {
  file: string;
  dir: string;
  templatesDir: string;
  version: 1;
  pachca: PachcaSettings;
  state: StateSettings;
  alerts?: AlertSettings;
  heartbeatUrl?: string;
  /** How button clicks arrive; absent when the config has no `events:` section. */
  events?: EventSettings;
  jobs: JobConfig[];
  unfurl?: UnfurlRule[];
  /** Interpolated values of secret-looking variables (TOKEN, PASSWORD, …) and the token: never print them. */
  secrets?: string[];
  /** Jobs not loaded because the command asked for one job only (names, for hints). */
  skippedJobs?: string[];
  /** Non-fatal findings (e.g. markup Pachca will not render), printed by `validate`. */
  warnings: string[];
}
