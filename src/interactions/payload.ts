/**
 * The `data` of an action button: which job, slot, message key and action a click is about.
 * Pure. Versioned by its prefix so a later format can live beside this one; small, because Pachca
 * allows 255 characters of button data.
 *
 *   pd1|r|daily-sales|m4x2p0|0|chat:101|3f9a1c2b
 *   ver act job        slot  t key      check
 *
 * The check is an integrity sum, not a signature: the data only ever comes back to us from our own
 * buttons (through a signed webhook or the bot's own event history), so it guards against a
 * mangled or foreign payload, not against an attacker.
 */
import { createRequire } from 'node:module';

export const BUTTON_ACTIONS = ['refresh', 'acknowledge', 'details', 'unsubscribe'] as const;
export type ButtonAction = (typeof BUTTON_ACTIONS)[number];

/** Pachca's limit for button data (characters). */
export const MAX_BUTTON_DATA = 255;
const PREFIX = 'pd1';
const CODE: Record<ButtonAction, string> = { refresh: 'r', acknowledge: 'a', details: 'd', unsubscribe: 'u' };
const ACTION_OF: Record<string, ButtonAction> = { r: 'refresh', a: 'acknowledge', d: 'details', u: 'unsubscribe' };

export interface ButtonPayload {
  action: ButtonAction;
  job: string;
  /** The scheduled slot of the run that posted the message (second precision). */
  slot: Date;
  /** Index of the target in the job's `targets` (which button set, which details template). */
  target: number;
  /** The delivery key of the message in the run (`chat:101`, `user:7#2`). */
  key: string;
}

export type DecodeResult =
  | { ok: true; payload: ButtonPayload }
  /** `foreign`: not ours at all (another bot's or a hand-made button); `invalid`: ours but damaged. */
  | { ok: false; kind: 'foreign' | 'invalid'; reason: string };

const FIELD = /^[^|]+$/;

export function encodeButtonData(p: ButtonPayload): string {
  const data = build(p);
  if (data.length > MAX_BUTTON_DATA) {
    throw new RangeError(`button payload is ${data.length} characters; Pachca allows ${MAX_BUTTON_DATA}`);
  }
  return data;
}

function build(p: ButtonPayload): string {
  const slot = Math.floor(p.slot.getTime() / 1000);
  if (!Number.isSafeInteger(slot) || slot < 0) throw new RangeError(`button payload: bad slot ${String(p.slot)}`);
  if (!FIELD.test(p.job) || !FIELD.test(p.key)) throw new RangeError('button payload: job and key must be non-empty and contain no "|"');
  if (!Number.isInteger(p.target) || p.target < 0) throw new RangeError(`button payload: bad target index ${p.target}`);
  const body = [PREFIX, CODE[p.action], p.job, slot.toString(36), p.target.toString(36), p.key].join('|');
  return `${body}|${check(body)}`;
}

export function decodeButtonData(data: unknown): DecodeResult {
  if (typeof data !== 'string' || !data.startsWith(`${PREFIX}|`)) {
    return { ok: false, kind: 'foreign', reason: 'not a pachca-digest button (unknown prefix or version)' };
  }
  if (data.length > MAX_BUTTON_DATA) return { ok: false, kind: 'invalid', reason: `longer than ${MAX_BUTTON_DATA} characters` };
  const parts = data.split('|');
  if (parts.length !== 7) return { ok: false, kind: 'invalid', reason: `expected 7 fields, got ${parts.length}` };
  const [, code, job, slot36, target36, key, sum] = parts as [string, string, string, string, string, string, string];
  if (check(parts.slice(0, 6).join('|')) !== sum) return { ok: false, kind: 'invalid', reason: 'integrity check failed (tampered or corrupted)' };
  const action = ACTION_OF[code];
  if (!action) return { ok: false, kind: 'invalid', reason: `unknown action code "${code}"` };
  if (!/^[0-9a-z]+$/.test(slot36) || !/^[0-9a-z]+$/.test(target36) || !job || !key) {
    return { ok: false, kind: 'invalid', reason: 'malformed field' };
  }
  const seconds = parseInt(slot36, 36);
  return { ok: true, payload: { action, job, slot: new Date(seconds * 1000), target: parseInt(target36, 36), key } };
}

/**
 * The longest data a job's buttons can produce, for validation at load: the key of a fan-out
 * message is `kind:<id>#<index>`, so the longest id and index are assumed.
 */
export function worstCaseButtonDataLength(job: string, targetIndex: number): number {
  return build({
    action: 'acknowledge',
    job,
    slot: new Date(Date.UTC(2286, 0, 1)),
    target: targetIndex,
    key: `thread:${Number.MAX_SAFE_INTEGER}#999999`,
  }).length;
}

function check(body: string): string {
  // Loaded on first use: a config without action buttons then never loads node:crypto at start-up.
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(body).digest('hex').slice(0, 8);
}
