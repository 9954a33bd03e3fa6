/**
 * Failure alerts: a pure decision (one message when a job starts failing, silence while it keeps
 * failing, one when it recovers), the Russian message text, and the optional heartbeat ping.
 * Sending and the "alerting" flag live with the caller (the pipeline stores it in the ledger).
 */
import { DateTime } from 'luxon';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { scrubSecrets } from './secrets.js';

export type AlertKind = 'failure' | 'recovery';

export interface AlertDecisionInput {
  status: 'succeeded' | 'failed' | 'skipped';
  /** Failed runs in a row, this one included (0 when this run did not fail). */
  consecutiveFailures: number;
  /** Whether a failure alert was sent and no recovery since (the ledger's flag). */
  previouslyAlerting: boolean;
  /** Consecutive failures before the first alert; values below 1 count as 1. */
  after: number;
  on: ReadonlyArray<AlertKind>;
}

/**
 * - failed: `failure` once the streak reaches `after`, unless an alert is already out;
 * - succeeded: `recovery` when an alert is out;
 * - skipped: nothing — a skipped run (skip_if, empty data, slot claimed elsewhere) says nothing
 *   about whether the job works, so it neither alerts nor clears the flag.
 * A kind missing from `on` is never returned, but the caller's flag should still follow the
 * transition (see `nextAlertingFlag`), so a recovery-only config never reports a recovery that
 * was not preceded by a failure streak.
 */
export function decideAlert(input: AlertDecisionInput): AlertKind | null {
  const kind = alertTransition(input);
  return kind && input.on.includes(kind) ? kind : null;
}

/** The transition regardless of `on`. */
export function alertTransition(input: Omit<AlertDecisionInput, 'on'>): AlertKind | null {
  const after = Math.max(1, Math.floor(input.after || 1));
  if (input.status === 'failed') {
    return !input.previouslyAlerting && input.consecutiveFailures >= after ? 'failure' : null;
  }
  if (input.status === 'succeeded') return input.previouslyAlerting ? 'recovery' : null;
  return null;
}

export interface AlertEvaluation {
  /** The alert to send now, or null. */
  send: AlertKind | null;
  /** The alerting flag to store after this run (it follows the transition whatever `on` says). */
  alerting: boolean;
}

/**
 * THE alert rule for a finished run: what to send and the flag to keep. The flag follows the failure/recovery
 * transition even for a kind `on` leaves out, so `on: [recovery]` still knows that a failure streak began and
 * sends the recovery when it ends.
 */
export function evaluateAlert(input: AlertDecisionInput): AlertEvaluation {
  return { send: decideAlert(input), alerting: nextAlertingFlag(input) };
}

/** The alerting flag to store after this run. */
export function nextAlertingFlag(input: Omit<AlertDecisionInput, 'on'>): boolean {
  const kind = alertTransition(input);
  if (kind === 'failure') return true;
  if (kind === 'recovery') return false;
  return input.previouslyAlerting;
}

// ---------------------------------------------------------------------------------------------
// Message text

export interface AlertTextInput {
  job: string;
  slot: Date;
  /** The error message, or the whole error. */
  error?: string | { code?: string | null; message?: string | null; hint?: string | null } | null;
  code?: string | null;
  hint?: string | null;
  timezone: string;
  locale: string;
  /** Failures in a row, shown when known. */
  consecutiveFailures?: number;
}

export const ALERT_DEFAULTS = {
  /** Long error texts (a stack, an HTML error page) are cut: the alert points at the logs. */
  maxErrorChars: 500,
  maxHintChars: 300,
} as const;

/**
 * Russian alert text in Pachca Markdown. Every value that comes from config or an error is
 * escaped: no formatting, link or mention can be injected through a job name or error text; and
 * registered secrets (./secrets.ts) are masked in the error text and hint.
 */
export function formatAlert(kind: AlertKind, input: AlertTextInput): string {
  const job = escapeMarkdown(input.job);
  const when = formatSlot(input.slot, input.timezone, input.locale);
  if (kind === 'recovery') {
    return [`🟢 Дайджест **${job}** снова работает`, `Успешный запуск: ${when}`].join('\n');
  }
  const err = typeof input.error === 'object' && input.error !== null ? input.error : undefined;
  // Error texts quote what failed (a program's stderr, a server's answer), which may echo a
  // credential: the alert goes to a chat, so it gets the same scrub as a log line.
  const rawMessage = typeof input.error === 'string' ? input.error : (err?.message ?? null);
  const message = rawMessage ? scrubSecrets(rawMessage) : null;
  const code = input.code ?? err?.code ?? null;
  const rawHint = input.hint ?? err?.hint ?? null;
  const hint = rawHint ? scrubSecrets(rawHint) : null;

  const lines = [`🔴 Дайджест **${job}** не отправлен`, `Запуск: ${when}`];
  if (code || message) {
    const codeText = code ? (/^[A-Z0-9_]+$/.test(code) ? `\`${code}\`` : escapeMarkdown(code)) : '';
    const msgText = message ? escapeMarkdown(oneLine(message, ALERT_DEFAULTS.maxErrorChars)) : '';
    lines.push(`Ошибка: ${[codeText, msgText].filter(Boolean).join(' — ')}`);
  }
  if (hint) lines.push(`Что сделать: ${escapeMarkdown(oneLine(hint, ALERT_DEFAULTS.maxHintChars))}`);
  if (input.consecutiveFailures !== undefined && input.consecutiveFailures > 1) {
    lines.push(`Неудачных запусков подряд: ${input.consecutiveFailures}`);
  }
  lines.push('Следующее сообщение придёт, когда дайджест снова заработает.');
  return lines.join('\n');
}

/**
 * Backslash-escapes Markdown markup and defuses mentions: `@` becomes the full-width `＠`, which
 * reads the same but is never parsed as `@nickname` or `<@id>`.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_~[\]]/g, (ch) => `\\${ch}`).replace(/@/g, '＠');
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function formatSlot(slot: Date, timezone: string, locale: string): string {
  let dt = DateTime.fromJSDate(slot, { zone: timezone });
  // A bad zone only spoils the wording of the alert; fall back rather than lose the alert.
  if (!dt.isValid) dt = DateTime.fromJSDate(slot, { zone: 'UTC' });
  if (!dt.isValid) return String(slot);
  return `${dt.setLocale(locale || 'ru').toFormat('d MMMM yyyy, HH:mm')} (${escapeMarkdown(dt.zoneName ?? timezone)})`;
}

// ---------------------------------------------------------------------------------------------
// Heartbeat

export interface HeartbeatOptions {
  signal?: AbortSignal;
  /** Default 10 s: a slow monitoring service must not hold up the run. */
  timeoutMs?: number;
  logger?: Logger;
}

/**
 * GET the heartbeat URL (healthchecks.io, Uptime Kuma, Cronitor…). Never throws: a failed ping is
 * logged as a warning and reported as `false`. Only the URL's origin is logged — the path of a
 * ping URL is usually its secret.
 */
export async function pingHeartbeat(url: string, options: HeartbeatOptions = {}): Promise<boolean> {
  const log = options.logger ?? silentLogger;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let origin = '(invalid url)';
  try {
    origin = new URL(url).origin;
  } catch {
    log.warn({ heartbeat: origin }, 'heartbeat URL is not a valid URL');
    return false;
  }
  const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
  try {
    // Loaded on the first ping, not with the module (see pachca/transport.ts for what undici costs a process).
    const { request } = await import('undici');
    const res = await request(url, {
      method: 'GET',
      signal: AbortSignal.any(signals),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      headers: { 'user-agent': 'pachca-digest' },
    });
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) {
      log.debug({ heartbeat: origin, status: res.statusCode }, 'heartbeat sent');
      return true;
    }
    log.warn({ heartbeat: origin, status: res.statusCode }, 'heartbeat ping was rejected');
    return false;
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    log.warn({ heartbeat: origin, error: reason.split(url).join(origin) }, 'heartbeat ping failed');
    return false;
  }
}
