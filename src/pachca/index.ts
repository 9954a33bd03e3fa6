/** The Pachca API client: paced, retried, never duplicating a message. */
export {
  PachcaClient,
  classify as classifyRequest,
  type PachcaClientOptions,
  type RateLimitOptions,
  type MessageCallOptions,
  type SendMessageOptions,
  type WriteCallOptions,
  type RequestOptions,
} from './client.js';
export { matchLanded, type LandedQuery } from './landed.js';
export { PachcaApiError, redact, type ApiErrorItem, type PachcaApiErrorInit } from './errors.js';
export { uploadFiles, uploadFile, multipartBody, type UploadInput, type UploadParams, type UploadOptions } from './uploads.js';
export { splitContent, splitChars, utf8Bytes, MIN_SPLIT_BYTES } from './split.js';
export { backoffDelay, parseRetryAfter, rateLimitWait } from './backoff.js';
export { RateLimiter, TOKEN_BUCKET, DEFAULT_SAFETY_MARGIN, type LimiterOptions, type LimiterSnapshot } from './limiter.js';
export { limiterFor, limiterKey, allLimiters } from './limiter-registry.js';
export { bucketKey, mergeRateLimits } from './limiter-settings.js';
export {
  bucketAvailableAt,
  bucketTake,
  bucketRefill,
  bucketPause,
  bucketRelease,
  bucketCancel,
  newBucketState,
  abortError,
  BucketPausedError,
  type AcquireOptions,
  type BucketClass,
  type BucketState,
  type CeilingSource,
  type Permit,
} from './bucket.js';
export {
  paginatePages,
  DEFAULT_PAGE_LIMIT,
  DEFAULT_MAX_PAGES,
  type PageBody,
  type PaginateOptions,
} from './paginate.js';
export { CLIENT_DEFAULTS, DEFAULT_BASE_URL } from './defaults.js';
export type * from './defaults.js';
export type * from './types.js';
export { BUDGET_SHARE_DEFAULTS, shareFor, startBudgetShare, type BeatState, type BudgetShare, type BudgetShareOptions } from './budget-share.js';
