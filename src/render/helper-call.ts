/**
 * What every template helper is built from: `Call` (one invocation: its arguments, locale and a
 * `fail` that names the template file, line and helper) and `helper()`, which declares a helper's
 * argument count next to its code. That declaration is the only one: the runtime check and the
 * load-time template check (check.ts) both read it.
 */
import Handlebars from 'handlebars';
import { RENDER_DEFAULTS } from './defaults.js';
import { templateError, type HbsLoc, type TemplateSite } from './location.js';

export type Options = Handlebars.HelperOptions & { loc?: HbsLoc; ids?: unknown[]; name?: string };

export interface RenderData {
  locale: string;
  timezone: string;
  site: TemplateSite;
  root?: Record<string, unknown>;
}

export class Call {
  readonly locale: string;
  readonly timezone: string;
  constructor(
    readonly name: string,
    readonly options: Options,
    /** The context the helper was called in (`this`), to spot a field the helper shadows. */
    readonly context: unknown,
  ) {
    const data = (options.data ?? {}) as Partial<RenderData>;
    this.locale = data.locale ?? RENDER_DEFAULTS.locale;
    this.timezone = data.timezone ?? RENDER_DEFAULTS.timezone;
  }

  get hash(): Record<string, unknown> {
    return (this.options.hash ?? {}) as Record<string, unknown>;
  }

  get text(): Texts {
    return textsFor(this.locale);
  }

  fail(message: string, hint?: string): never {
    const data = this.options.data as Partial<RenderData> | undefined;
    throw templateError(data?.site, this.options.loc, `${this.name}: ${message}`, hint);
  }

  /** How argument `i` was written in the template (`metrics.revenue`), for messages. */
  what(i: number): string {
    const id = this.options.ids?.[i];
    return typeof id === 'string' && id !== '' ? `"${id}"` : `argument ${i + 1}`;
  }

  number(value: unknown, i: number): number {
    const n = this.maybeNumber(value, i);
    if (n === null) this.fail(`${this.what(i)} is null, expected a number`, 'wrap it: (default value 0)');
    return n;
  }

  /** Numbers, bigint and numeric strings (Prometheus, PostgreSQL numeric) pass; `null` is "no data". */
  maybeNumber(value: unknown, i: number): number | null {
    if (value === null) return null;
    if (value === undefined) {
      this.fail(`${this.what(i)} is undefined`, 'the field is missing: check its name, or use (default value 0)');
    }
    if (typeof value === 'number') {
      if (Number.isFinite(value)) return value;
      this.fail(`${this.what(i)} is ${value}, expected a finite number`);
    }
    if (typeof value === 'bigint') return Number(value);
    if (typeof value === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) return Number(value);
    return this.fail(`${this.what(i)} is not a number: ${preview(value)}`);
  }

  integer(value: unknown, i: number, min: number, max: number): number {
    const n = this.number(value, i);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.fail(`${this.what(i)} must be an integer from ${min} to ${max}, got ${preview(value)}`);
    }
    return n;
  }

  string(value: unknown, i: number): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
    if (value instanceof Handlebars.SafeString) return value.toString();
    return this.fail(`${this.what(i)} must be text, got ${preview(value)}`);
  }

  array(value: unknown, i: number): unknown[] {
    if (Array.isArray(value)) return value;
    return this.fail(
      `${this.what(i)} must be an array, got ${preview(value)}`,
      value === null ? 'null means no data: guard it with {{#if …}}' : `pass a list, e.g. {{${this.name} metrics.rows …}}`,
    );
  }

  arity(params: unknown[], spec: HelperSpec): void {
    const problem = arityProblem(spec, params.length);
    if (problem) this.fail(problem, this.shadowHint(params) ?? `usage: ${spec.usage}`);
  }

  /**
   * `{{count}}` inside `{{#each rows}}` calls the helper, not the row's `count` field. Said only
   * when it is what happened: no arguments and the current context really has such a field.
   */
  private shadowHint(params: unknown[]): string | undefined {
    const ctx = this.context;
    if (params.length > 0 || ctx === null || typeof ctx !== 'object' || !Object.prototype.hasOwnProperty.call(ctx, this.name)) return undefined;
    return `the field "${this.name}" is shadowed by the helper of that name: write {{this.${this.name}}}`;
  }
}

export function preview(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (value instanceof Date) return `Date(${value.toISOString()})`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const s = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

// ---------------------------------------------------------------- locale texts

export interface Texts {
  noData: string;
  new: string;
  for: string;
  week: string;
  units: { d: string; h: string; m: string; s: string; ms: string };
}

const TEXTS: Record<'ru' | 'en', Texts> = {
  ru: { noData: 'нет данных', new: 'новое', for: 'за', week: 'за неделю', units: { d: 'д', h: 'ч', m: 'мин', s: 'с', ms: 'мс' } },
  en: { noData: 'no data', new: 'new', for: 'for', week: 'for the week of', units: { d: 'd', h: 'h', m: 'min', s: 's', ms: 'ms' } },
};

export function textsFor(locale: string): Texts {
  return locale.toLowerCase().startsWith('ru') ? TEXTS.ru : TEXTS.en;
}

// ---------------------------------------------------------------- Intl caches

const numberFormats = new Map<string, Intl.NumberFormat>();
/**
 * Every number the helpers print goes through here. `signDisplay: 'negative'` drops the sign of a
 * value that rounds to zero (-0.004 → "0", not "-0") and of -0 itself, in every style.
 */
export function nf(locale: string, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = locale + JSON.stringify(opts);
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { signDisplay: 'negative', ...opts });
    numberFormats.set(key, f);
  }
  return f;
}

export function formatNumber(locale: string, n: number, decimals?: number): string {
  const opts: Intl.NumberFormatOptions =
    decimals === undefined
      ? { maximumFractionDigits: RENDER_DEFAULTS.numberMaxFractionDigits }
      : { minimumFractionDigits: decimals, maximumFractionDigits: decimals };
  return nf(locale, opts).format(n);
}

export const MINUS = '\u2212';
export function roundTo(n: number, decimals: number): number {
  const f = 10 ** decimals;
  const r = Math.round(Math.abs(n) * f) / f;
  return n < 0 ? -r : r;
}

// ---------------------------------------------------------------- declaring a helper

export type HelperImpl = (call: Call, params: unknown[]) => unknown;

export interface HelperSpec {
  /** Positional arguments accepted (hash arguments such as `decimals=2` do not count). */
  min: number;
  max: number;
  usage: string;
  impl: HelperImpl;
  /**
   * A check that needs the job's locale, given the positional argument count; returns the problem
   * or undefined. Run at load for each job that uses the template (`plural` needs 3 forms in ru).
   */
  localeCheck?: (argCount: number, locale: string) => { message: string; hint: string } | undefined;
}

export function helper(min: number, max: number, usage: string, impl: HelperImpl, extra: Pick<HelperSpec, 'localeCheck'> = {}): HelperSpec {
  return { min, max, usage, impl, ...extra };
}

/** "expected 2–3 argument(s), got 1", or undefined when the count fits. */
export function arityProblem(spec: Pick<HelperSpec, 'min' | 'max'>, count: number): string | undefined {
  if (count >= spec.min && count <= spec.max) return undefined;
  return `expected ${spec.min === spec.max ? spec.min : `${spec.min}–${spec.max}`} argument(s), got ${count}`;
}

/** The Handlebars function for a spec: the argument count is checked before the helper runs. */
export function define(spec: HelperSpec, name: string) {
  return function (this: unknown, ...args: unknown[]) {
    const options = args.pop() as Options;
    const call = new Call(name, options, this);
    call.arity(args, spec);
    return spec.impl(call, args);
  };
}
