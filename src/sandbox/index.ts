/**
 * A local Pachca-compatible server: integration-test target, local preview and benchmark server.
 * `startSandbox()` listens on 127.0.0.1 (random port by default); point a client at `baseUrl`.
 */
export { startSandbox } from './server.js';
export { PREVIEW_NOTICE, type SandboxMode } from './auth.js';
export type { Sandbox, SandboxOptions, SandboxStats, SandboxExchange, RequestLogEntry, RouteMount } from './server.js';
export { SandboxBot, BOT_DEFAULTS, type WebhookEvent, type DeliveryAttempt } from './bot.js';
export { SandboxStore } from './store.js';
export { apiMessage, apiChat, messageUrl } from './api-views.js';
export { SandboxUploads, UPLOAD_DEFAULTS, STORAGE_BASE_PATH, FILES_BASE_PATH, type StoredUpload } from './uploads.js';
export { SandboxLinkPreviews, linksOf, type StoredLinkPreview } from './link-previews.js';
export type {
  SeedChat,
  SeedUser,
  StoredChat,
  StoredMessage,
  StoredThread,
  StoredUser,
  StoredFile,
  ChatKind,
  SandboxStoreEvents,
} from './records.js';
export type { Fault, FaultKind, FaultMatch, FaultSpec, ActiveFault } from './faults.js';
export { DOCUMENTED_LIMITS } from './rate-limit.js';
export type { SandboxRateLimits, SandboxRateLimitsOption, BucketName, LimitName, BucketLimit } from './rate-limit.js';
export type { Route, Reply, RequestContext } from './router.js';
export type { ApiErrorBody, ApiErrorItem, OAuthErrorBody } from './errors.js';
export { API_BASE_PATH, INSPECT_BASE_PATH, SANDBOX_DEFAULTS, DEFAULT_CHATS, DEFAULT_USERS } from './defaults.js';
export { createWebRoutes, WEB_BASE_PATH, WEB_DEFAULTS } from './web/index.js';
export type { WebOptions, WebJobsProvider, WebJobInfo, WebJobRunResult } from './web/index.js';
