import type { DigestError } from '../errors.js';

/** A template compiled at config load. Rendering never re-parses. */
export interface RenderOptions {
  locale: string;
  timezone: string;
  /** Epoch ms: the job's deadline; a render still running then stops with E_TEMPLATE (see budget.ts). */
  deadline?: number;
}

export interface CompiledTemplate {
  /** File the template came from (or `<inline>` plus the config position for inline templates). */
  file: string;
  source: string;
  /** Throws DigestError E_TEMPLATE with file, line and missing path or helper name. */
  render(context: Record<string, unknown>, options: RenderOptions): string;
  /** What can be known once a job's locale is: `{{plural n "задача"}}` lacks forms in ru-RU. */
  localeProblems(locale: string): DigestError[];
}

/** Where an inline template (target id, button text/url) sits in the config: errors point here. */
export interface InlineOrigin {
  file: string;
  line: number;
  column: number;
  /** Dotted path in the config, e.g. `jobs[0].targets[1].buttons[0][0].url`. */
  path: string;
}

export interface InlineCompileOptions {
  /** No markdown escaping (ids, button text and URLs are not markdown). */
  raw?: boolean;
}

export interface TemplateEngine {
  /** Absolute path of the templates directory. */
  readonly templatesDir: string;
  /** Compiles `templatesDir/relativePath` now; throws DigestError E_TEMPLATE on any problem. */
  compileFile(relativePath: string): CompiledTemplate;
  compileInline(source: string, origin: InlineOrigin, options?: InlineCompileOptions): CompiledTemplate;
  /** Names of the registered partials (`footer`, `team/header`), sorted. */
  partialNames(): string[];
}

export interface TemplateEngineOptions {
  templatesDir: string;
}

/** A piece of markup Pachca will not render (see `lintMessage`). */
export interface LintWarning {
  line: number;
  message: string;
  hint: string;
}
