/**
 * Interactive digests: action buttons, events in (history polling or signed webhooks), and the
 * actions a click runs (refresh, acknowledge, details, unsubscribe).
 */
export {
  BUTTON_ACTIONS,
  MAX_BUTTON_DATA,
  decodeButtonData,
  encodeButtonData,
  worstCaseButtonDataLength,
  type ButtonAction,
  type ButtonPayload,
  type DecodeResult,
} from './payload.js';
export { EventRouter, dedupeKey, eventTypeOf, type EventContext, type EventHandler, type EventOutcome, type IncomingEvent, type RouterOptions } from './router.js';
export { buttonClickHandler, type ActionDeps } from './actions.js';
export { drainHistory, type DrainResult, type HistoryEvent } from './poll.js';
export { checkWebhook, verifySignature, webhookHandler, type WebhookCheck, type WebhookOptions } from './webhook.js';
