/**
 * The process logger: pino writing JSON lines (for log shippers) or a compact human format (for a
 * terminal). Every line passes through the secret scrub on its way out, whatever format is used.
 *
 * Only the CLI imports this file; everything else receives a `Logger` (./logger.ts).
 */
import { pino, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger, type LoggerOptions } from 'pino';
import { DigestError } from '../errors.js';
import type { DigestEmitter, DigestEvents } from '../events.js';
import type { Logger } from './logger.js';
import { redactDeep, REDACTED, scrubSecrets } from './secrets.js';

export { registerSecret, scrubSecrets, clearSecrets, REDACTED } from './secrets.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'json' | 'pretty' | 'auto';

/** Anything with `write`; `isTTY` decides the `auto` format. */
export interface LogStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface LogOptions {
  /** A LogLevel; a string is accepted (CLI flag, env) and validated. */
  level?: LogLevel | (string & {});
  /** `auto` (default): pretty on a TTY, JSON otherwise. */
  format?: LogFormat;
  /** Default: process.stderr, so command output on stdout stays clean for pipes. */
  stream?: LogStream;
  /** Extra pino redact paths, added to LOG_DEFAULTS.redactPaths. */
  redact?: string[];
  /** Colours in the pretty format. Default: the stream is a TTY and NO_COLOR is unset. */
  color?: boolean;
  /** Fields added to every line (e.g. `{ service: 'pachca-digest' }`). */
  base?: Record<string, unknown>;
}

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export const LOG_DEFAULTS = {
  level: 'info' as LogLevel,
  format: 'auto' as LogFormat,
  /**
   * Known places of credentials. `redactDeep` additionally masks these key names at any depth;
   * the paths stay so pino masks them even in objects redactDeep does not copy (class instances).
   */
  redactPaths: [
    'token',
    '*.token',
    'authorization',
    '*.authorization',
    'Authorization',
    '*.Authorization',
    'headers.authorization',
    'headers.Authorization',
    '*.headers.authorization',
    '*.headers.Authorization',
    'req.headers.authorization',
    'request.headers.authorization',
    'options.headers.authorization',
    'password',
    '*.password',
    'headers.cookie',
    '*.headers.cookie',
  ],
} as const;

/** Create the process logger. Throws E_USAGE for an unknown level or format. */
export function createLogger(options: LogOptions = {}): Logger {
  const level = (options.level ?? LOG_DEFAULTS.level) as LogLevel;
  const format = options.format ?? LOG_DEFAULTS.format;
  if (!LOG_LEVELS.includes(level)) {
    throw new DigestError('E_USAGE', `Unknown log level "${String(level)}"`, {
      hint: `Use one of: ${LOG_LEVELS.join(', ')}`,
    });
  }
  if (!['json', 'pretty', 'auto'].includes(format)) {
    throw new DigestError('E_USAGE', `Unknown log format "${String(format)}"`, { hint: 'Use json, pretty or auto' });
  }
  const out: LogStream = options.stream ?? process.stderr;
  const pretty = format === 'pretty' || (format === 'auto' && out.isTTY === true);
  const color = options.color ?? (out.isTTY === true && !process.env.NO_COLOR);

  const destination: DestinationStream = pretty
    ? { write: (line: string) => void out.write(scrubSecrets(formatPrettyLine(line, { color }))) }
    : { write: (line: string) => void out.write(scrubSecrets(line)) };

  const pinoOptions: LoggerOptions = {
    level,
    base: { pid: process.pid, ...options.base },
    timestamp: stdTimeFunctions.isoTime,
    redact: { paths: [...LOG_DEFAULTS.redactPaths, ...(options.redact ?? [])], censor: REDACTED },
    formatters: {
      // Labels rather than numbers: log shippers and humans both read "warn" better than 40.
      level: (label) => ({ level: label }),
      log: (obj) => redactDeep(obj),
    },
  };
  return deferChildren(pino(pinoOptions, destination));
}

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * pino serialises a child's bindings when the child is made, through the redaction (its wildcard
 * paths parse and walk every binding): about 8 KB of garbage per child, and every run makes three
 * (run, source, after-run) that at the default level mostly write nothing. Here a child is only a
 * note of its bindings until it writes a line at an enabled level; the line is the same.
 */
function deferChildren(root: PinoLogger): Logger {
  const wrap = (make: () => PinoLogger): Logger => {
    let real: PinoLogger | undefined;
    const get = () => (real ??= make());
    const at = (level: Level) => (...args: [object, string?]) => {
      if (root.isLevelEnabled(level)) (get()[level] as (...a: unknown[]) => void)(...args);
    };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      // A copy: pino read the bindings at child() time, a caller's later change must not show.
      child: (bindings: object) => {
        const copy = { ...bindings };
        return wrap(() => get().child(copy));
      },
    };
  };
  return wrap(() => root);
}

// ---------------------------------------------------------------------------------------------
// Pretty format

const KEY_FIELDS = ['job', 'slot', 'status', 'durationMs'] as const;
const HIDDEN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname']);
const LEVEL_COLOR: Record<string, string> = {
  trace: '\x1b[90m',
  debug: '\x1b[36m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[35m',
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/**
 * One JSON log line → one readable line:
 * `09:00:01.234 INFO  run finished job=daily-sales slot=… status=succeeded duration=1.2s attempts=1`.
 * An error stack, when present, follows on indented lines. Lines that are not JSON pass through.
 */
export function formatPrettyLine(line: string, opts: { color?: boolean } = {}): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const c = opts.color === true;
  const levelName = String(rec.level ?? 'info');
  const lvl = levelName.toUpperCase().padEnd(5);
  const time = formatClock(rec.time);
  const parts: string[] = [];
  parts.push(c ? `${DIM}${time}${RESET}` : time);
  parts.push(c ? `${LEVEL_COLOR[levelName] ?? ''}${lvl}${RESET}` : lvl);
  if (rec.msg !== undefined) parts.push(String(rec.msg));

  const fields: string[] = [];
  for (const key of KEY_FIELDS) {
    if (rec[key] === undefined) continue;
    fields.push(key === 'durationMs' ? `duration=${formatMs(Number(rec[key]))}` : `${key}=${formatValue(rec[key])}`);
  }
  let stack: string | undefined;
  for (const [key, value] of Object.entries(rec)) {
    if (HIDDEN_FIELDS.has(key) || (KEY_FIELDS as readonly string[]).includes(key) || value === undefined) continue;
    if ((key === 'err' || key === 'error') && value && typeof value === 'object') {
      const e = value as Record<string, unknown>;
      if (typeof e.stack === 'string') stack = e.stack;
      for (const sub of ['code', 'message', 'hint'] as const) {
        if (e[sub] !== undefined) fields.push(`${key}.${sub}=${formatValue(e[sub])}`);
      }
      continue;
    }
    fields.push(`${key}=${formatValue(value)}`);
  }
  if (fields.length > 0) parts.push(c ? `${DIM}${fields.join(' ')}${RESET}` : fields.join(' '));
  let text = parts.join(' ');
  if (stack) text += '\n' + stack.replace(/^/gm, '    ');
  return text + '\n';
}

function formatClock(time: unknown): string {
  const d = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date(NaN);
  if (Number.isNaN(d.getTime())) return '--:--:--.---';
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------
// Events → log lines

type Handlers = { [K in keyof DigestEvents]: (p: DigestEvents[K], log: Logger) => void };

const iso = (d: Date | null | undefined) => (d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : null);

/**
 * The mapping is a total record over DigestEvents: adding an event without deciding how it is
 * logged is a type error.
 */
/** A fan-out's progress is logged at most this often per run (plus its first and last report). */
export const PROGRESS_LOG_EVERY_MS = 10_000;
const lastProgressLog = new Map<string, number>();

const HANDLERS: Handlers = {
  'run:progress': (p, log) => {
    const key = `${p.job}\u0000${iso(p.slot)}`;
    const last = lastProgressLog.get(key);
    const now = Date.now();
    if (p.done) lastProgressLog.delete(key);
    else if (last !== undefined && now - last < PROGRESS_LOG_EVERY_MS) return;
    else lastProgressLog.set(key, now);
    // A single message is not a fan-out worth reporting.
    if (p.total <= 1) return;
    log.info(
      { job: p.job, slot: iso(p.slot), sent: p.sent, total: p.total, ratePerSecond: p.ratePerSecond, etaSeconds: p.etaSeconds },
      p.done ? 'fan-out finished' : 'fan-out progress',
    );
  },
  'run:start': (p, log) => log.info({ job: p.job, slot: iso(p.slot), attempt: p.attempt }, 'run started'),
  'run:end': (p, log) => {
    const fields = {
      job: p.job,
      slot: iso(p.slot),
      status: p.status,
      durationMs: p.durationMs,
      attempts: p.attempts,
      messageIds: p.messageIds,
      ...(p.reason !== undefined ? { reason: p.reason } : {}),
      ...(p.error ? { error: { code: p.error.code, message: p.error.message, hint: p.error.hint } } : {}),
    };
    if (p.status === 'failed') log.error(fields, 'run failed');
    else if (p.status === 'skipped') log.info(fields, 'run skipped');
    else log.info(fields, 'run succeeded');
  },
  // A finished slot is simply done; only a slot still running was claimed by another process.
  'run:claimed-elsewhere': (p, log) =>
    log.info(
      { job: p.job, slot: iso(p.slot), status: p.status, ...(p.owner ? { owner: p.owner } : {}) },
      p.status === 'running'
        ? `slot already claimed by another process${p.owner ? ` (${p.owner}${p.leaseUntil ? `, lease until ${iso(p.leaseUntil)}` : ''})` : ''}`
        : `slot already done (${[p.attempts ? `run ${p.attempts}` : '', `${p.status}${p.finishedAt ? ` at ${iso(p.finishedAt)}` : ''}`].filter(Boolean).join(', ')})`,
    ),
  'run:helped': (p, log) =>
    log.info({ job: p.job, slot: iso(p.slot), owner: p.owner, chunks: p.chunks, messages: p.messages }, 'delivered part of a fan-out another replica claimed'),
  'source:end': (p, log) => {
    const fields = { job: p.job, source: p.source, durationMs: p.durationMs, ok: p.ok, ...(p.error ? { error: p.error } : {}) };
    if (p.ok) log.debug(fields, 'source collected');
    else log.warn(fields, 'source failed');
  },
  'pachca:request': (p, log) => {
    const fields = { method: p.method, path: p.path, status: p.status, durationMs: p.durationMs, bucket: p.bucket, attempt: p.attempt };
    // Failed attempts are debug here: the retry/rate-limit events that follow them carry the warning.
    log.debug(fields, 'pachca request');
  },
  'pachca:rate-limited': (p, log) =>
    log.warn({ method: p.method, path: p.path, bucket: p.bucket, retryAfterMs: p.retryAfterMs }, 'pachca rate limit hit (429)'),
  'pachca:retry': (p, log) =>
    log.warn({ method: p.method, path: p.path, attempt: p.attempt, delayMs: p.delayMs, reason: p.reason }, 'retrying pachca request'),
  'pachca:paused': (p, log) =>
    log.warn({ bucket: p.bucket, untilMs: p.untilMs, until: iso(new Date(p.untilMs)) }, 'pachca bucket paused'),
  'pachca:limiter-wait': (p, log) => log.debug({ bucket: p.bucket, waitedMs: p.waitedMs }, 'waited for rate limiter'),
  'pachca:breaker': (p, log) => {
    if (p.state === 'open') log.warn({ state: p.state }, 'pachca circuit breaker opened: slowing down all requests');
    else log.info({ state: p.state }, 'pachca circuit breaker closed');
  },
  'interaction:action': (p, log) =>
    log.info({ job: p.job, action: p.action, messageId: p.messageId, userId: p.userId }, 'button action'),
  'interaction:event': (p, log) => log.debug({ type: p.type, via: p.via, outcome: p.outcome }, 'event taken in'),
  'pachca:deduplicated': (p, log) =>
    log.info({ chatId: p.chatId, messageId: p.messageId }, 'message already posted: not sending it again'),
  'monitor:transition': (p, log) => log.info({ job: p.job, action: p.action, messageId: p.messageId, phase: p.phase }, `monitor alert: ${p.action}`),
  'unfurl:preview': (p, log) =>
    (p.ok ? log.info.bind(log) : log.warn.bind(log))({ messageId: p.messageId, url: p.url, job: p.job, ...(p.reason ? { reason: p.reason } : {}) }, p.ok ? 'link preview sent' : 'link preview skipped'),
  'scheduler:tick': (p, log) => log.debug({ at: iso(p.at) }, 'scheduler tick'),
  'scheduler:next': (p, log) => log.debug({ job: p.job, next: iso(p.at) }, p.at ? 'next run scheduled' : 'no next run'),
  'config:reloaded': (p, log) => log.info({ file: p.file, jobs: p.jobs }, 'configuration reloaded'),
  'config:reload-failed': (p, log) =>
    log.error({ file: p.file, error: p.error }, 'configuration reload failed: keeping the previous configuration'),
};

/** Log every DigestEvents event. Returns a function that unsubscribes all of them. */
export function attachLogging(events: DigestEmitter, logger: Logger): () => void {
  const offs: Array<() => void> = [];
  for (const name of Object.keys(HANDLERS) as Array<keyof DigestEvents>) {
    const handler = HANDLERS[name] as (p: unknown, log: Logger) => void;
    offs.push(events.on(name, (payload) => handler(payload, logger)));
  }
  return () => {
    for (const off of offs) off();
  };
}
