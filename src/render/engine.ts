/**
 * The template engine: an isolated Handlebars environment with markdown escaping, strict lookups
 * that name the missing path and its file:line, partials, layouts and the helpers. It wires the
 * pieces together and owns the files: compiling is in compile.ts, the runtime hooks that compiled
 * code calls in lookup.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { DateTime } from 'luxon';
import { DigestError, formatLocation } from '../errors.js';
import { RENDER_DEFAULTS } from './defaults.js';
import { budgetHelpers, withBudget } from './budget.js';
import { finalizeMarkdown, normalizeOutput } from './escape.js';
import { registerHelpers, type RenderData } from './helpers.js';
import { localeProblems, type HelperCall } from './check.js';
import { templateError, type TemplateSite } from './location.js';
import { compileSource, installCompiler, type Delegate, type Env } from './compile.js';
import { ESCAPE, LOOKUP, RAW, checkedLookup, escapeValue, rawValue } from './lookup.js';
import type {
  CompiledTemplate,
  InlineCompileOptions,
  InlineOrigin,
  RenderOptions,
  TemplateEngine,
  TemplateEngineOptions,
} from './types.js';

const LAYOUT_DIRECTIVE = /^\uFEFF?\s*\{\{!<\s*([^\s}]+)\s*\}\}/;

// ---------------------------------------------------------------- rendering

function withSite(data: unknown, site: TemplateSite): Record<string, unknown> {
  const frame = Handlebars.createFrame(data ?? {}) as Record<string, unknown>;
  frame.site = site;
  return frame;
}

function runDelegate(tpl: Delegate, context: unknown, data: RenderData): string {
  try {
    return tpl(context, { data });
  } catch (e) {
    if (e instanceof DigestError) throw e;
    const err = e as Error & { lineNumber?: number; column?: number };
    if (typeof err?.lineNumber === 'number') {
      const message = String(err.message).replace(/ - \d+:\d+$/, '');
      throw templateError(data.site, { start: { line: err.lineNumber, column: err.column ?? 0 } }, message, undefined, e);
    }
    throw templateError(data.site, undefined, `render failed: ${err?.message ?? String(e)}`, undefined, e);
  }
}

function checkRenderOptions(options: RenderOptions, site: TemplateSite): void {
  try {
    Intl.getCanonicalLocales(options.locale);
  } catch {
    throw templateError(site, undefined, `invalid locale "${options.locale}"`, 'use a BCP 47 tag such as ru-RU or en-US');
  }
  if (!DateTime.now().setZone(options.timezone).isValid) {
    throw templateError(site, undefined, `unknown timezone "${options.timezone}"`, 'use an IANA name such as Europe/Moscow');
  }
}

// ---------------------------------------------------------------- engine

function displayPath(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : abs;
}

function listTemplates(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith('.hbs')) out.push(full);
    }
  };
  walk(dir);
  return out.sort();
}

interface Layered {
  delegate: Delegate;
  site: TemplateSite;
  calls: HelperCall[];
}

export function createTemplateEngine(options: TemplateEngineOptions): TemplateEngine {
  const templatesDir = path.resolve(options.templatesDir);
  const env = Handlebars.create() as Env;
  installCompiler(env);
  registerHelpers(env);
  // Built-ins (each, if, with, lookup, blockHelperMissing) and ours; the three below step themselves.
  budgetHelpers(env.helpers);
  env.registerHelper(LOOKUP, checkedLookup as any);
  env.registerHelper(ESCAPE, escapeValue as any);
  env.registerHelper(RAW, rawValue as any);

  const readTemplate = (abs: string, site: TemplateSite | undefined, what: string): string => {
    try {
      return fs.readFileSync(abs, 'utf8').replace(/^\uFEFF/, '');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new DigestError('E_TEMPLATE', `${what} not found: ${abs}`, {
        location: site ? { file: site.file, line: 1 } : { file: displayPath(abs) },
        hint: code === 'ENOENT' ? `templates are read from ${templatesDir}` : `cannot read it (${code ?? String(e)})`,
        cause: e,
      });
    }
  };

  // Partials: every templates/partials/**/*.hbs, compiled now, named by relative path.
  const partialsDir = path.join(templatesDir, 'partials');
  const partialFiles = listTemplates(partialsDir).map((abs) => ({
    abs,
    name: path.relative(partialsDir, abs).split(path.sep).join('/').replace(/\.hbs$/, ''),
  }));
  const partialNames = new Set(partialFiles.map((p) => p.name));
  for (const { abs, name } of partialFiles) {
    const site: TemplateSite = { file: displayPath(abs) };
    const { delegate } = compileSource(env, { source: readTemplate(abs, undefined, 'partial'), site, partials: partialNames });
    // A partial runs with its own file in `data`, so helper errors inside it name the partial.
    env.registerPartial(name, ((ctx: unknown, opts: Handlebars.RuntimeOptions) =>
      delegate(ctx, { ...opts, data: withSite(opts?.data, site) })) as unknown as Handlebars.Template);
  }

  const layouts = new Map<string, Layered[]>();
  // Jobs often share a template; an engine lives for one config load, so caching is safe.
  const files = new Map<string, CompiledTemplate>();

  const insideDir = (root: string, abs: string) => {
    const rel = path.relative(root, abs);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  };

  /** A template's source plus its chain of layouts, innermost first. */
  const loadChain = (source: string, site: TemplateSite, seen: string[]): Layered[] => {
    const chain: Layered[] = [{ ...compileSource(env, { source, site, partials: partialNames }), site }];
    const directive = LAYOUT_DIRECTIVE.exec(source);
    if (!directive) return chain;
    const name = directive[1]!;
    const layoutsDir = path.join(templatesDir, 'layouts');
    const abs = path.resolve(layoutsDir, `${name}.hbs`);
    const at = { start: { line: 1 + (source.slice(0, directive.index + directive[0].indexOf('{{')).match(/\n/g)?.length ?? 0), column: 0 } };
    if (!insideDir(layoutsDir, abs)) throw templateError(site, at, `layout "${name}" is outside ${layoutsDir}`);
    if (seen.includes(abs) || seen.length >= RENDER_DEFAULTS.maxLayoutDepth) {
      throw templateError(site, at, `layouts form a cycle or nest too deep: ${[...seen, abs].map(displayPath).join(' → ')}`);
    }
    let layoutChain = layouts.get(abs);
    if (!layoutChain) {
      if (!fs.existsSync(abs)) {
        throw templateError(site, at, `layout "${name}" not found: ${abs}`, 'layouts live in templates/layouts/NAME.hbs');
      }
      const layoutSite: TemplateSite = { file: displayPath(abs) };
      const layoutSource = readTemplate(abs, site, 'layout');
      if (!/\{\{\{?~?\s*body\s*~?\}?\}\}/.test(layoutSource)) {
        throw templateError(layoutSite, undefined, `layout "${name}" never outputs {{{body}}}`, 'put {{{body}}} where the message body goes');
      }
      layoutChain = loadChain(layoutSource, layoutSite, [...seen, abs]);
      layouts.set(abs, layoutChain);
    }
    return [...chain, ...layoutChain];
  };

  const makeTemplate = (file: string, source: string, chain: Layered[], raw: boolean): CompiledTemplate => ({
    file,
    source,
    render(context: Record<string, unknown>, renderOptions: RenderOptions): string {
      const first = chain[0]!;
      checkRenderOptions(renderOptions, first.site);
      if (context === null || typeof context !== 'object') {
        throw templateError(first.site, undefined, 'render context must be an object');
      }
      const data = (site: TemplateSite): RenderData => ({ locale: renderOptions.locale, timezone: renderOptions.timezone, site });
      return withBudget(first.site, renderOptions.deadline, () => {
        let out = runDelegate(first.delegate, context, data(first.site));
        for (const layer of chain.slice(1)) {
          out = runDelegate(layer.delegate, { ...context, body: new Handlebars.SafeString(out) }, data(layer.site));
        }
        const text = finalizeMarkdown(out);
        return raw ? text.trim() : normalizeOutput(text);
      });
    },
    localeProblems(locale: string): DigestError[] {
      return chain.flatMap((layer) => localeProblems(layer.calls, layer.site, locale));
    },
  });

  return {
    templatesDir,
    compileFile(relativePath: string): CompiledTemplate {
      const abs = path.resolve(templatesDir, relativePath);
      if (!insideDir(templatesDir, abs)) {
        throw new DigestError('E_TEMPLATE', `template path "${relativePath}" is outside the templates directory ${templatesDir}`, {
          location: { file: relativePath },
          hint: 'give a path relative to the templates directory, without ..',
        });
      }
      const cached = files.get(abs);
      if (cached) return cached;
      const site: TemplateSite = { file: displayPath(abs) };
      const source = readTemplate(abs, undefined, 'template');
      const compiled = makeTemplate(site.file, source, loadChain(source, site, []), false);
      files.set(abs, compiled);
      return compiled;
    },
    compileInline(source: string, origin: InlineOrigin, inlineOptions: InlineCompileOptions = {}): CompiledTemplate {
      if (typeof source !== 'string') {
        throw new DigestError('E_TEMPLATE', 'inline template must be a string', { location: { ...origin } });
      }
      const site: TemplateSite = { file: origin.file, origin };
      const compiled = compileSource(env, { source, site, raw: inlineOptions.raw, partials: partialNames });
      return makeTemplate(`<inline> ${formatLocation(origin)}`, source, [{ ...compiled, site }], Boolean(inlineOptions.raw));
    },
    partialNames(): string[] {
      return [...partialNames].sort();
    },
  };
}
