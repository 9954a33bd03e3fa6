/**
 * Events in, whichever way they came (history or webhook): deduplicated in the ledger, then
 * dispatched by type to a registered handler. Other stages register their own types
 * (`router.on('message_link_shared', …)`); an event nobody handles is acknowledged and ignored.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../observability/index.js';
import type { InteractionLedger } from '../state/index.js';

export interface IncomingEvent {
  /** The history's event id; absent for a webhook POST (Pachca sends the payload alone). */
  id?: string;
  /** `button_click`, `message_new`, … (the history's event_type, or derived from the payload). */
  type: string;
  payload: Record<string, unknown>;
  via: 'history' | 'webhook';
}

export interface EventContext {
  logger: Logger;
  signal: AbortSignal;
}

export type EventHandler = (event: IncomingEvent, ctx: EventContext) => Promise<void>;

export type EventOutcome = 'handled' | 'duplicate' | 'ignored' | 'failed';

export interface RouterOptions {
  ledger: InteractionLedger;
  owner: string;
  logger: Logger;
  /** How long a claim on an event lasts before another replica may retry it. */
  leaseMs?: number;
  now?: () => Date;
}

/** A webhook payload's type the way the history names it: `{ type: button, event: click }` → `button_click`. */
export function eventTypeOf(payload: Record<string, unknown>): string {
  const t = typeof payload.type === 'string' ? payload.type : 'unknown';
  const e = typeof payload.event === 'string' ? payload.event : '';
  return e ? `${t}_${e}` : t;
}

/**
 * The ledger key one delivery of an event is deduplicated by: a button click's `trigger_id` (the
 * same click in the history and in a webhook is one click), else the history id, else the body.
 */
export function dedupeKey(event: IncomingEvent): string {
  const trigger = event.payload.trigger_id;
  if (typeof trigger === 'string' && trigger) return `trigger:${trigger}`;
  if (event.id) return `event:${event.id}`;
  return `body:${createHash('sha256').update(JSON.stringify(event.payload)).digest('hex').slice(0, 32)}`;
}

export class EventRouter {
  readonly #handlers = new Map<string, EventHandler>();

  constructor(private readonly o: RouterOptions) {}

  on(type: string, handler: EventHandler): this {
    this.#handlers.set(type, handler);
    return this;
  }

  handles(type: string): boolean {
    return this.#handlers.has(type);
  }

  /** Never throws: a failed handler is logged, its claim released so a redelivery retries it. */
  async dispatch(event: IncomingEvent, signal: AbortSignal = new AbortController().signal): Promise<EventOutcome> {
    const handler = this.#handlers.get(event.type);
    const log = this.o.logger.child({ event: event.id ?? null, type: event.type, via: event.via });
    if (!handler) {
      log.debug({}, 'event not handled by pachca-digest: acknowledged and ignored');
      return 'ignored';
    }
    const now = this.o.now ?? (() => new Date());
    const key = dedupeKey(event);
    const { ledger, owner } = this.o;
    if (!(await ledger.take(key, owner, this.o.leaseMs ?? 60_000, now()))) {
      log.debug({ key }, 'event already handled (or being handled): skipped');
      return 'duplicate';
    }
    try {
      await handler(event, { logger: log, signal });
      await ledger.complete(key, owner, now());
      return 'handled';
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'event handler failed; a redelivery will retry it');
      await ledger.release(key, owner).catch(() => {});
      return 'failed';
    }
  }
}
