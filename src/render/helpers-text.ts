/** Text, logic and list helpers: plural, truncate, default, join, math and comparisons, sum…pluck. */
import { formatNumber, helper, preview, roundTo, type Call, type HelperSpec } from './helper-call.js';
import { graphemes } from './width.js';

// ---------------------------------------------------------------- text

/**
 * The word forms `plural` needs for a locale, in the order they are written: one / few / many where
 * the locale has a few-category (ru, uk, pl…), one / other where it has a singular (en, de…), a
 * single form otherwise (ja, zh).
 */
export function pluralFormNames(locale: string): string[] {
  const categories = new Set(new Intl.PluralRules(locale).resolvedOptions().pluralCategories);
  if (categories.has('few')) return ['one', 'few', 'many'];
  if (categories.has('one')) return ['one', 'other'];
  return ['other'];
}

const PLURAL_EXAMPLES: Record<number, string> = { 3: '"задача" "задачи" "задач"', 2: '"task" "tasks"', 1: '"件"' };

function pluralForm(locale: string, n: number, forms: string[]): string {
  const category = new Intl.PluralRules(locale).select(n);
  // Forms are given as one / few / many (ru) or one / other (en); `other` in Russian means
  // fractions ("1,5 задачи"), which take the `few` form.
  const index: Record<string, number> = { zero: 2, one: 0, two: 1, few: 1, many: 2, other: forms.length >= 4 ? 3 : 1 };
  return forms[Math.min(index[category] ?? forms.length - 1, forms.length - 1)]!;
}

/** One form would print "3 задача": every number needs its own word form. Shared by the runtime and the load-time check. */
function pluralFormsProblem(locale: string, formCount: number, shown?: string[]): { message: string; hint: string } | undefined {
  const names = pluralFormNames(locale);
  if (formCount >= names.length) return undefined;
  return {
    message: `${locale} needs ${names.length} word forms (${names.join(', ')}), got ${formCount}${shown ? `: ${shown.map((f) => JSON.stringify(f)).join(' ')}` : ''}`,
    hint: `write {{plural n ${PLURAL_EXAMPLES[names.length] ?? names.map((f) => `"${f}"`).join(' ')}}}`,
  };
}

export const textHelpers: Record<string, HelperSpec> = {
  plural: helper(2, 5, '{{plural n "задача" "задачи" "задач"}}  (with_number=false to omit the number)', (call, p) => {
    const n = call.number(p[0], 0);
    const forms = p.slice(1).map((f, i) => call.string(f, i + 1));
    const problem = pluralFormsProblem(call.locale, forms.length, forms);
    if (problem) call.fail(problem.message, problem.hint);
    const word = pluralForm(call.locale, n, forms);
    const withNumber = call.hash.with_number;
    if (withNumber === false || withNumber === 'false') return word;
    return `${formatNumber(call.locale, n)} ${word}`;
  }, { localeCheck: (argCount, locale) => pluralFormsProblem(locale, argCount - 1) }),
  truncate: helper(2, 2, '{{truncate text maxChars}}', (call, p) => {
    if (p[0] === null) return '';
    const text = call.string(p[0], 0);
    const max = call.integer(p[1], 1, 1, 100_000);
    const chars = graphemes(text);
    if (chars.length <= max) return text;
    let cut = chars.slice(0, max - 1).join('');
    const space = cut.search(/\s\S*$/);
    // Cut on a word boundary unless that throws away more than half.
    if (space > cut.length / 2) cut = cut.slice(0, space);
    return cut.replace(/[\s.,;:!?…-]+$/u, '') + '…';
  }),
  default: helper(2, 2, '{{default value fallback}}', (call, p) => {
    const v = p[0];
    return v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v)) ? p[1] : v;
  }),
  join: helper(1, 2, '{{join array [", "]}}', (call, p) => {
    const arr = call.array(p[0], 0);
    const sep = p[1] === undefined ? ', ' : call.string(p[1], 1);
    return arr.map((v) => (v === null || v === undefined ? '' : String(v))).join(sep);
  }),
};

// ---------------------------------------------------------------- math and logic

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

function comparable(v: unknown): number | string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return /^\s*[-+]?(\d+\.?\d*|\.\d+)\s*$/.test(v) ? Number(v) : v;
  return null;
}

function compare(call: Call, p: unknown[], test: (d: number) => boolean): boolean {
  const a = comparable(p[0]);
  const b = comparable(p[1]);
  // No data compares as false, so `{{#if (gt errors 0)}}` stays quiet when errors is null.
  if (a === null || b === null) return false;
  if (typeof a !== typeof b) call.fail(`cannot compare ${preview(p[0])} with ${preview(p[1])}`);
  return test(typeof a === 'number' ? a - (b as number) : (a as string).localeCompare(b as string));
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  const na = comparable(a);
  const nb = comparable(b);
  return typeof na === 'number' && typeof nb === 'number' && na === nb;
}

export const logicHelpers: Record<string, HelperSpec> = {
  add: helper(2, 2, '{{add a b}}', (c, p) => c.number(p[0], 0) + c.number(p[1], 1)),
  sub: helper(2, 2, '{{sub a b}}', (c, p) => c.number(p[0], 0) - c.number(p[1], 1)),
  mul: helper(2, 2, '{{mul a b}}', (c, p) => c.number(p[0], 0) * c.number(p[1], 1)),
  div: helper(2, 2, '{{div a b}}', (c, p) => {
    const a = c.number(p[0], 0);
    const b = c.number(p[1], 1);
    if (b === 0) c.fail(`division by zero (${c.what(1)} is 0)`, 'guard it: {{#if (ne b 0)}}…{{/if}}');
    return a / b;
  }),
  round: helper(1, 2, '{{round value [decimals]}}', (c, p) => {
    const n = c.number(p[0], 0);
    const d = p[1] === undefined ? 0 : c.integer(p[1], 1, 0, 20);
    return roundTo(n, d);
  }),
  gt: helper(2, 2, '{{#if (gt a b)}}', (c, p) => compare(c, p, (d) => d > 0)),
  gte: helper(2, 2, '{{#if (gte a b)}}', (c, p) => compare(c, p, (d) => d >= 0)),
  lt: helper(2, 2, '{{#if (lt a b)}}', (c, p) => compare(c, p, (d) => d < 0)),
  lte: helper(2, 2, '{{#if (lte a b)}}', (c, p) => compare(c, p, (d) => d <= 0)),
  eq: helper(2, 2, '{{#if (eq a b)}}', (_c, p) => equal(p[0], p[1])),
  ne: helper(2, 2, '{{#if (ne a b)}}', (_c, p) => !equal(p[0], p[1])),
  and: helper(2, 20, '{{#if (and a b …)}}', (_c, p) => p.every(truthy)),
  or: helper(2, 20, '{{#if (or a b …)}}', (_c, p) => p.some(truthy)),
  not: helper(1, 1, '{{#if (not a)}}', (_c, p) => !truthy(p[0])),
};

// ---------------------------------------------------------------- arrays

export function field(call: Call, item: unknown, key: string, index: number): unknown {
  let cur: unknown = item;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, part)) {
      return call.fail(`item ${index + 1} has no field "${key}"`, 'check the key name (nested keys use dots: "a.b")');
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function values(call: Call, p: unknown[]): number[] {
  const arr = call.array(p[0], 0);
  const key = p[1] === undefined ? undefined : call.string(p[1], 1);
  const out: number[] = [];
  arr.forEach((item, i) => {
    const v = key === undefined ? item : field(call, item, key, i);
    if (v === null || v === undefined) return;
    const n = call.maybeNumber(v, 0);
    if (n !== null) out.push(n);
  });
  return out;
}

function sortKey(v: unknown): number | string | null {
  return comparable(v);
}

function sortItems(call: Call, arr: unknown[], key: string | undefined, desc: boolean): unknown[] {
  const keyed = arr.map((item, i) => ({ item, k: sortKey(key === undefined ? item : field(call, item, key, i)) }));
  const collator = new Intl.Collator(call.locale, { numeric: true });
  keyed.sort((a, b) => {
    // No data sorts last in both directions.
    if (a.k === null || b.k === null) return a.k === null ? (b.k === null ? 0 : 1) : -1;
    let d: number;
    if (typeof a.k === 'number' && typeof b.k === 'number') d = a.k - b.k;
    else d = collator.compare(String(a.k), String(b.k));
    return desc ? -d : d;
  });
  return keyed.map((k) => k.item);
}

export const arrayHelpers: Record<string, HelperSpec> = {
  sum: helper(1, 2, '{{sum array ["key"]}}', (c, p) => values(c, p).reduce((a, b) => a + b, 0)),
  avg: helper(1, 2, '{{avg array ["key"]}}', (c, p) => {
    const v = values(c, p);
    return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
  }),
  min: helper(1, 2, '{{min array ["key"]}}', (c, p) => {
    const v = values(c, p);
    return v.length === 0 ? null : Math.min(...v);
  }),
  max: helper(1, 2, '{{max array ["key"]}}', (c, p) => {
    const v = values(c, p);
    return v.length === 0 ? null : Math.max(...v);
  }),
  count: helper(1, 1, '{{count array}}', (c, p) => {
    if (p[0] === null) return 0;
    if (p[0] !== undefined && typeof p[0] === 'object' && !Array.isArray(p[0])) return Object.keys(p[0]).length;
    return c.array(p[0], 0).length;
  }),
  sortBy: helper(1, 3, '{{#each (sortBy array "key" ["desc"])}}', (c, p) => {
    const arr = c.array(p[0], 0);
    const key = p[1] === undefined ? undefined : c.string(p[1], 1);
    const dir = p[2] === undefined ? 'asc' : c.string(p[2], 2);
    if (dir !== 'asc' && dir !== 'desc') c.fail(`direction must be "asc" or "desc", got ${preview(p[2])}`);
    return sortItems(c, arr, key, dir === 'desc');
  }),
  top: helper(2, 3, '{{#each (top array n ["key"])}}', (c, p) => {
    const arr = c.array(p[0], 0);
    const n = c.integer(p[1], 1, 0, 1_000_000);
    const key = p[2] === undefined ? undefined : c.string(p[2], 2);
    return sortItems(c, arr, key, true).slice(0, n);
  }),
  pluck: helper(2, 2, '{{join (pluck array "key")}}', (c, p) => {
    const arr = c.array(p[0], 0);
    const key = c.string(p[1], 1);
    return arr.map((item, i) => field(c, item, key, i));
  }),
};
