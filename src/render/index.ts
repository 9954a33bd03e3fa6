export { createTemplateEngine } from './engine.js';
export { lintMessage } from './lint.js';
export { escapeMarkdown, finalizeMarkdown, normalizeOutput, sanitizeForCode } from './escape.js';
export { displayWidth } from './width.js';
export { HELPER_NAMES } from './helpers.js';
export { RENDER_DEFAULTS } from './defaults.js';
export type {
  CompiledTemplate,
  InlineCompileOptions,
  InlineOrigin,
  LintWarning,
  RenderOptions,
  TemplateEngine,
  TemplateEngineOptions,
} from './types.js';
