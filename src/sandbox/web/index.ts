/**
 * The sandbox's web view: `startSandbox()` mounts it at `/` by default (`web: false` turns it off,
 * `web: { jobs }` adds the Jobs view); `createWebRoutes` is the same thing as route tables.
 */
export { createWebRoutes, WEB_BASE_PATH, WEB_DEFAULTS } from './routes.js';
export type { WebOptions, WebJobsProvider } from './routes.js';
export type {
  WebJobInfo,
  WebJobRunResult,
  WebJobRunResponse,
  WebMessage,
  WebState,
  WebStatsResponse,
} from './types.js';
