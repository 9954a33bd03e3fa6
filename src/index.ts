/**
 * Library surface of pachca-digest. `PachcaClient` is a stable public export; the rest lets
 * plugins and embedders reuse the pipeline.
 */
export { PachcaClient, PachcaApiError, splitContent, utf8Bytes } from './pachca/index.js';
export type { PachcaClientOptions } from './pachca/index.js';
export type * from './pachca/types.js';
export { CLIENT_DEFAULTS, DEFAULT_BASE_URL } from './pachca/defaults.js';
export type { ClientDefaults, RateLimitSettings, RetrySettings, TimeoutSettings } from './pachca/defaults.js';
export { defineSource } from './sources/define.js';
export type { SourceDefinition, SourceContext, Period } from './sources/define.js';
export { DigestError, EXIT } from './errors.js';
export type { ErrorCode, ErrorLocation } from './errors.js';
export { Emitter } from './events.js';
export type { DigestEvents, DigestEmitter } from './events.js';
export { loadConfig } from './config/index.js';
export type { LoadedConfig, JobConfig } from './config/types.js';
export { runJob } from './pipeline/run.js';
export type { RunOutcome } from './pipeline/run.js';
export { startSandbox } from './sandbox/index.js';
export type { Sandbox, SandboxOptions } from './sandbox/index.js';
