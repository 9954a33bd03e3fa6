/**
 * The template engine: an isolated Handlebars environment with markdown escaping, strict lookups
 * that name the missing path and its file:line, partials, layouts and the helpers.
 *
 * Two code-generation hooks (a JavaScriptCompiler subclass, the documented extension point) make
 * this work without touching global Handlebars state:
 *  - `appendEscaped` calls our markdown escaper instead of Handlebars' HTML `escapeExpression`
 *    (which is module-global and used by every environment, so it cannot be overridden safely);
 *  - `resolvePath` calls our checked lookup, which knows the whole dotted path, the template file
 *    and the statement's position, so "metrics.revenue.total is not defined" points at file:line.
 */
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { excerpt, findSyntaxProblem } from './syntax.js';
import { DateTime } from 'luxon';
import { DigestError, formatLocation } from '../errors.js';
import { RENDER_DEFAULTS } from './defaults.js';
import { budgetHelpers, produced, step, withBudget } from './budget.js';
import { escapeMarkdown, finalizeMarkdown, normalizeOutput } from './escape.js';
import { HELPER_NAMES, registerHelpers, type RenderData } from './helpers.js';
import { closest } from './suggest.js';
import { setupOnce } from './setup-once.js';
import { checkHelperCalls, localeProblems, type HelperCall } from './check.js';
import { templateError, type HbsLoc, type TemplateSite } from './location.js';
import type {
  CompiledTemplate,
  InlineCompileOptions,
  InlineOrigin,
  RenderOptions,
  TemplateEngine,
  TemplateEngineOptions,
} from './types.js';

/** The compiler classes are public extension points but missing from the bundled typings. */
type Env = typeof Handlebars & { JavaScriptCompiler: any; Compiler: any; Parser: any };
type Delegate = Handlebars.TemplateDelegate;

const LOOKUP = '__digest_lookup';
const ESCAPE = '__digest_escape';
const RAW = '__digest_raw';
const LAYOUT_DIRECTIVE = /^\uFEFF?\s*\{\{!<\s*([^\s}]+)\s*\}\}/;

interface LookupMeta {
  parts: string[];
  full: string;
  /** `{{a.b}}` output: every segment must exist. Helper params only need the parents to exist. */
  output: boolean;
  /** The path is in a helper's name position (`{{numbr x}}`): say "unknown helper". */
  helper: boolean;
  site: TemplateSite;
  loc?: HbsLoc;
}

// ---------------------------------------------------------------- runtime pieces

function toText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Array.isArray(value)) return value.map(toText).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function isSafe(value: unknown): value is { toHTML(): string } {
  return value !== null && typeof value === 'object' && typeof (value as { toHTML?: unknown }).toHTML === 'function';
}

function escapeValue(value: unknown): string {
  const out = isSafe(value) ? value.toHTML() : escapeMarkdown(toText(value));
  produced(out.length);
  return out;
}

function rawValue(value: unknown): string {
  const out = isSafe(value) ? value.toHTML() : toText(value);
  produced(out.length);
  return out;
}

function missing(meta: LookupMeta, index: number, holder: unknown): DigestError {
  const prefix = meta.parts.slice(0, index).join('.');
  const part = meta.parts[index]!;
  if (meta.helper) {
    const guess = closest(part, HELPER_NAMES);
    return templateError(
      meta.site,
      meta.loc,
      `unknown helper or field "${meta.full}"`,
      guess ? `did you mean the helper "${guess}"?` : 'see docs/templates.md for the list of helpers',
    );
  }
  if (holder === null || holder === undefined) {
    return templateError(
      meta.site,
      meta.loc,
      `"${meta.full}" is not defined (${prefix ? `"${prefix}"` : 'the current value'} is ${holder})`,
      'guard it with {{#if …}} or use (default value "—")',
    );
  }
  const keys = typeof holder === 'object' ? Object.keys(holder as object) : [];
  const guess = closest(part, keys);
  const where = prefix ? `"${prefix}"` : 'this level';
  let hint = guess
    ? `did you mean "${[...meta.parts.slice(0, index), guess].join('.')}"?`
    : keys.length > 0
      ? `${where} has: ${keys.slice(0, 12).join(', ')}${keys.length > 12 ? ', …' : ''}`
      : `${where} has no fields`;
  if (!meta.output) hint += '; to test an optional field use (lookup obj "key")';
  return templateError(meta.site, meta.loc, `"${meta.full}" is not defined`, hint);
}

function checkedLookup(container: { lookupProperty(o: unknown, k: string): unknown }, base: unknown, meta: LookupMeta): unknown {
  step(meta.site, meta.loc);
  let cur = base;
  const last = meta.parts.length - 1;
  for (let i = 0; i <= last; i++) {
    const part = meta.parts[i]!;
    if (cur === null || cur === undefined) {
      // A null parent inside a helper argument reads as "no data" and stays null all the way down,
      // so `{{delta metrics.revenue previous.revenue}}` prints "—" on a job's first run (previous
      // is null) instead of failing on undefined. Only an explicit null counts: a missing parent
      // is a typo and still fails below.
      if (i > 0 && cur === null && !meta.output && !meta.helper) return null;
      throw missing(meta, i, cur);
    }
    if (!(part in Object(cur))) {
      if (i === last && !meta.output && !meta.helper) return undefined;
      throw missing(meta, i, cur);
    }
    cur = container.lookupProperty(cur, part);
  }
  return cur;
}

// ---------------------------------------------------------------- code generation

function installCompiler(env: Env): void {
  const Base = env.JavaScriptCompiler as unknown as { prototype: Record<string, unknown> };
  function DigestCompiler(this: unknown) {}
  const proto: Record<string, any> = Object.create(Base.prototype);
  DigestCompiler.prototype = proto;
  proto.constructor = DigestCompiler;
  // Child programs ({{#each}} bodies) are compiled with `new this.compiler()`.
  proto.compiler = DigestCompiler;
  proto.appendEscaped = function (this: any) {
    const fn = this.options.digestRaw ? RAW : ESCAPE;
    // The trailing {} is for Handlebars' helper wrapper, which writes `lookupProperty` onto the last argument.
    this.pushSource(this.appendToBuffer([`container.helpers.${fn}(`, this.popStack(), ', {})']));
  };
  proto.resolvePath = function (this: any, type: string, parts: string[], start: number, falsy: boolean, strict: boolean) {
    const base = this.popStack();
    const rest = parts.slice(start);
    if (rest.length === 0) {
      this.push(base);
      return;
    }
    const meta: LookupMeta = {
      parts: rest,
      full: (type === 'data' ? '@' : '') + parts.join('.'),
      output: Boolean(strict) && !falsy,
      helper: Boolean(strict) && Boolean(falsy),
      site: this.options.digestSite,
      loc: this.source.currentLocation,
    };
    this.push([`container.helpers.${LOOKUP}(container, `, base, `, ${JSON.stringify(meta)}, {})`]);
  };
  env.JavaScriptCompiler = DigestCompiler;
}

const KNOWN_HELPERS = Object.fromEntries(HELPER_NAMES.map((n) => [n, true]));

interface CompileInput {
  source: string;
  site: TemplateSite;
  raw?: boolean;
  /** Partial names that exist, for a compile-time check of `{{> name}}`. */
  partials: ReadonlySet<string>;
}

/** Parser tokens in the words a template author uses. */
const TOKEN_WORDS: Record<string, string> = {
  CLOSE: '`}}`',
  OPEN: '`{{`',
  OPEN_BLOCK: '`{{#`',
  OPEN_ENDBLOCK: '`{{/`',
  OPEN_SEXPR: '`(`',
  CLOSE_SEXPR: '`)`',
  INVALID: 'character',
  EQUALS: '`=`',
  STRING: 'string',
  NUMBER: 'number',
  ID: 'name',
};

function syntaxError(e: unknown, site: TemplateSite, env: Env, source: string): DigestError {
  const err = e as Error & { lineNumber?: number; column?: number };
  const text = String(err?.message ?? e);
  // Unclosed and mismatched blocks, unclosed tags: said in words, at the line that opened them.
  const problem = findSyntaxProblem(source);
  if (problem) return templateError(site, { start: problem }, `template syntax error: ${problem.message}${excerpt(source, problem.line, problem.column)}`, problem.hint, e);
  const parse = /^(Parse|Lexical) error on line (\d+)[:.]/.exec(text);
  if (parse) {
    const line = Number(parse[2]);
    const lexer = (env.Parser as { lexer?: { yylloc?: { first_line: number; first_column: number } } }).lexer;
    const yylloc = lexer?.yylloc;
    const column = yylloc && yylloc.first_line === line ? yylloc.first_column : 0;
    const body = text.split('\n');
    const expecting = body.find((l) => l.startsWith('Expecting') || l.startsWith('Unrecognized')) ?? body[body.length - 1] ?? '';
    const got = /got '([A-Z_]+)'/.exec(expecting)?.[1];
    const what = got === 'EOF' ? 'the template ends in the middle of a tag or block' : got ? `unexpected ${TOKEN_WORDS[got] ?? got.toLowerCase().replace(/_/g, ' ')}` : 'the tag cannot be read';
    return templateError(site, { start: { line, column } }, `template syntax error: ${what}${excerpt(source, line, column)}`, 'check the tag at the caret', e);
  }
  if (typeof err?.lineNumber === 'number') {
    const message = text.replace(/ - \d+:\d+$/, '');
    return templateError(site, { start: { line: err.lineNumber, column: err.column ?? 0 } }, `template error: ${message}`, undefined, e);
  }
  return templateError(site, undefined, `template error: ${text}`, undefined, e);
}

/** `{{> name}}` must name an existing partial or an inline one defined in the same template. */
function checkPartials(ast: hbs.AST.Program, input: CompileInput): void {
  const used: Array<{ name: string; loc: HbsLoc }> = [];
  const inline = new Set<string>();
  const visitor = new Handlebars.Visitor();
  const v = visitor as unknown as Record<string, (node: any) => void>;
  const base = Handlebars.Visitor.prototype as unknown as Record<string, (this: unknown, node: any) => void>;
  const note = (node: any) => {
    if (node.name?.type === 'PathExpression') used.push({ name: node.name.original, loc: node.loc });
  };
  v.PartialStatement = function (node) {
    note(node);
    base.PartialStatement!.call(this, node);
  };
  v.PartialBlockStatement = function (node) {
    note(node);
    base.PartialBlockStatement!.call(this, node);
  };
  v.DecoratorBlock = function (node) {
    if (node.path?.original === 'inline' && node.params?.[0]?.type === 'StringLiteral') inline.add(node.params[0].value);
    base.DecoratorBlock!.call(this, node);
  };
  visitor.accept(ast);
  for (const { name, loc } of used) {
    if (name === '@partial-block' || input.partials.has(name) || inline.has(name)) continue;
    const guess = closest(name, input.partials);
    throw templateError(
      input.site,
      loc,
      `partial "${name}" not found`,
      guess ? `did you mean "${guess}"?` : `partials live in templates/partials/**/*.hbs and are named by their path without .hbs`,
    );
  }
}

interface Compiled {
  delegate: Delegate;
  calls: HelperCall[];
}

function compileSource(env: Env, input: CompileInput): Compiled {
  let ast: hbs.AST.Program;
  try {
    ast = env.parse(input.source);
  } catch (e) {
    throw syntaxError(e, input.site, env, input.source);
  }
  checkPartials(ast, input);
  const calls = checkHelperCalls(ast, input.site);
  const options = {
    strict: true,
    data: true,
    trackIds: true,
    knownHelpers: KNOWN_HELPERS,
    digestSite: input.site,
    digestRaw: Boolean(input.raw),
  };
  try {
    // What Handlebars.compile does lazily, done now so every error surfaces at load.
    const environment = new env.Compiler().compile(ast, options);
    const spec = new env.JavaScriptCompiler().compile(environment, options, undefined, true);
    return { delegate: setupOnce(env.template(spec)), calls };
  } catch (e) {
    throw syntaxError(e, input.site, env, input.source);
  }
}

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
