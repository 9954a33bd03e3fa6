/**
 * Compiling a template, eagerly, so every syntax error, unknown partial and helper misuse surfaces
 * when the config loads rather than at the first run.
 *
 * Two code-generation hooks (a JavaScriptCompiler subclass, the documented extension point) make
 * this work without touching global Handlebars state:
 *  - `appendEscaped` calls our markdown escaper instead of Handlebars' HTML `escapeExpression`
 *    (which is module-global and used by every environment, so it cannot be overridden safely);
 *  - `resolvePath` calls our checked lookup, which knows the whole dotted path, the template file
 *    and the statement's position, so "metrics.revenue.total is not defined" points at file:line.
 * What those calls do at render time is in lookup.ts.
 */
import Handlebars from 'handlebars';
import type { DigestError } from '../errors.js';
import { excerpt, findSyntaxProblem } from './syntax.js';
import { HELPER_NAMES } from './helpers.js';
import { closest } from './suggest.js';
import { setupOnce } from './setup-once.js';
import { checkHelperCalls, type HelperCall } from './check.js';
import { templateError, type HbsLoc, type TemplateSite } from './location.js';
import { ESCAPE, LOOKUP, RAW, type LookupMeta } from './lookup.js';

/** The compiler classes are public extension points but missing from the bundled typings. */
export type Env = typeof Handlebars & { JavaScriptCompiler: any; Compiler: any; Parser: any };
export type Delegate = Handlebars.TemplateDelegate;

export function installCompiler(env: Env): void {
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

export function compileSource(env: Env, input: CompileInput): Compiled {
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
