/**
 * The load-time helper check: walks a template's Handlebars AST and reports, before any data
 * exists, what would fail on every run: an unknown helper (`{{procent x}}`) and a helper called
 * with the wrong number of arguments (`{{bar value}}`). Arity comes from the helper table
 * (helpers.ts), the same declaration the runtime checks against. Locale-dependent checks
 * (`plural` needs three forms in ru-RU) run per job, once its locale is known.
 */
import Handlebars from 'handlebars';
import type { DigestError } from '../errors.js';
import { arityProblem } from './helper-call.js';
import { HELPERS, HELPER_NAMES } from './helpers.js';
import { templateError, type HbsLoc, type TemplateSite } from './location.js';
import { closest } from './suggest.js';

/** Handlebars' own helpers and their positional argument counts (its runtime throws outside them). */
const BUILTINS: Record<string, { min: number; max: number; usage: string }> = {
  if: { min: 1, max: 1, usage: '{{#if value}}…{{/if}}' },
  unless: { min: 1, max: 1, usage: '{{#unless value}}…{{/unless}}' },
  each: { min: 1, max: 1, usage: '{{#each list}}…{{/each}}' },
  with: { min: 1, max: 1, usage: '{{#with object}}…{{/with}}' },
  lookup: { min: 2, max: 2, usage: '{{lookup object "key"}}' },
  log: { min: 1, max: 20, usage: '{{log value}}' },
};

/** One helper call found in a template: what a per-job check needs. */
export interface HelperCall {
  name: string;
  argCount: number;
  loc?: HbsLoc;
}

interface Sexpr {
  path: { type: string; original?: unknown; parts?: string[]; data?: boolean; depth?: number };
  params: unknown[];
  hash?: { pairs: unknown[] };
  loc?: HbsLoc;
}

/** Every helper call in `ast`, or the first problem (unknown helper, wrong argument count). */
export function checkHelperCalls(ast: hbs.AST.Program, site: TemplateSite): HelperCall[] {
  const calls: HelperCall[] = [];
  let problem: DigestError | undefined;
  const visitor = new Handlebars.Visitor();
  const v = visitor as unknown as Record<string, (node: any) => void>;
  const base = Handlebars.Visitor.prototype as unknown as Record<string, (this: unknown, node: any) => void>;
  const note = (node: Sexpr) => {
    if (problem || node.path.type !== 'PathExpression') return;
    if (!Handlebars.AST.helpers.simpleId(node.path as hbs.AST.PathExpression)) return;
    const name = node.path.parts![0]!;
    const argCount = node.params.length;
    // Arguments or a hash make it a call; a bare `{{name}}` is a call only when a helper has that name.
    const called = argCount > 0 || (node.hash?.pairs.length ?? 0) > 0;
    const spec = HELPERS[name] ?? BUILTINS[name];
    if (!spec) {
      if (!called) return;
      const guess = closest(name, [...HELPER_NAMES, ...Object.keys(BUILTINS)]);
      problem = templateError(site, node.loc, `unknown helper "${name}"`, guess ? `did you mean "${guess}"?` : 'see docs/templates.md for the list of helpers');
      return;
    }
    const wrong = arityProblem(spec, argCount);
    if (wrong) {
      // A bare `{{count}}` calls the helper even inside `{{#each}}` over rows that have `count`.
      const shadow = called ? '' : `; a field named "${name}" is written {{this.${name}}}`;
      problem = templateError(site, node.loc, `${name}: ${wrong}`, `usage: ${spec.usage}${shadow}`);
      return;
    }
    calls.push({ name, argCount, ...(node.loc ? { loc: node.loc } : {}) });
  };
  for (const type of ['MustacheStatement', 'BlockStatement', 'SubExpression']) {
    v[type] = function (node) {
      note(node as Sexpr);
      base[type]!.call(this, node);
    };
  }
  visitor.accept(ast);
  if (problem) throw problem;
  return calls;
}

/** The checks that need the job's locale, for the calls `checkHelperCalls` found. */
export function localeProblems(calls: readonly HelperCall[], site: TemplateSite, locale: string): DigestError[] {
  const out: DigestError[] = [];
  for (const call of calls) {
    const found = HELPERS[call.name]?.localeCheck?.(call.argCount, locale);
    if (found) out.push(templateError(site, call.loc, `${call.name}: ${found.message}`, found.hint));
  }
  return out;
}
