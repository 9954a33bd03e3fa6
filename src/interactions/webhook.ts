/**
 * The signed webhook receiver (mounted on the daemon's HTTP server). Pachca signs the raw body:
 * `Pachca-Signature` = hex HMAC-SHA256 with the bot's signing secret. A bad signature, a stale
 * `webhook_timestamp` (replay) or a body that is not JSON is 401 and nothing happens; a good one is
 * answered 200 at once and handled after, so Pachca never waits on our sources.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/index.js';
import { eventTypeOf, type IncomingEvent } from './router.js';

export interface WebhookOptions {
  secret: string;
  maxAgeMs: number;
  now?: () => number;
  logger: Logger;
  /** Called after the answer was sent. */
  onEvent: (event: IncomingEvent) => void;
}

const MAX_BODY = 1024 * 1024;

export function verifySignature(rawBody: Buffer, header: string | undefined, secret: string): boolean {
  if (!header || !/^[0-9a-f]{64}$/i.test(header.trim())) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(header.trim(), 'hex'));
}

export type WebhookCheck = { ok: true; event: IncomingEvent } | { ok: false; reason: string };

/** Pure checks on one request: signature, JSON, freshness. */
export function checkWebhook(rawBody: Buffer, signature: string | undefined, o: { secret: string; maxAgeMs: number; now: number }): WebhookCheck {
  if (!verifySignature(rawBody, signature, o.secret)) return { ok: false, reason: 'bad or missing Pachca-Signature' };
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return { ok: false, reason: 'body is not an object' };
  const ts = (payload as Record<string, unknown>).webhook_timestamp;
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return { ok: false, reason: 'no webhook_timestamp' };
  const age = o.now - ts * 1000;
  if (age > o.maxAgeMs) return { ok: false, reason: `webhook_timestamp is ${Math.round(age / 1000)} s old (replay?)` };
  if (age < -o.maxAgeMs) return { ok: false, reason: 'webhook_timestamp is in the future' };
  const p = payload as Record<string, unknown>;
  return { ok: true, event: { type: eventTypeOf(p), payload: p, via: 'webhook' } };
}

export function webhookHandler(o: WebhookOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) {
        res.writeHead(413).end();
        return;
      }
      chunks.push(c as Buffer);
    }
    const header = req.headers['pachca-signature'];
    const check = checkWebhook(Buffer.concat(chunks), Array.isArray(header) ? header[0] : header, { secret: o.secret, maxAgeMs: o.maxAgeMs, now: (o.now ?? Date.now)() });
    if (!check.ok) {
      o.logger.warn({ reason: check.reason }, 'webhook refused (401)');
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unauthorized' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    o.onEvent(check.event);
  };
}
