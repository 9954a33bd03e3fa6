/** The configuration loader: jobs.config.yaml → a validated, compiled LoadedConfig. */
export { loadConfig, loadConfigFromText, displayPath } from './load.js';
export type { LoadOptions, LoadTextOptions } from './load.js';
export { configJsonSchema, renderConfigReference } from './json-schema.js';
export { CONFIG_DEFAULTS, msToConfigDuration } from './defaults.js';
export { didYouMean, editDistance } from './issues.js';
export type * from './types.js';
export { isActionButton } from './types.js';
