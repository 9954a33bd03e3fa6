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
