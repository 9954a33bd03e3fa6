/** Link previews: `unfurl:` rules, URL patterns and the `link_shared` handler. */
export { parsePattern, matchUrl, fillParams, unfurlDomains } from './match.js';
export type { UrlPattern } from './match.js';
export { handleLinkShared, isLinkSharedEvent, slotFor, cardText, PREVIEW_LIMITS } from './handler.js';
export type { LinkSharedEvent, RenderedPreview, UnfurlDeps, UnfurlResult } from './handler.js';
