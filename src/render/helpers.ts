/**
 * Template helpers. Every helper validates its arguments and fails with E_TEMPLATE naming the
 * template file, line and helper. Locale and timezone come from Handlebars `data`, so one compiled
 * template renders for jobs with different locales.
 */
import Handlebars from 'handlebars';
import { DateTime } from 'luxon';
import { RENDER_DEFAULTS } from './defaults.js';
import { escapeMarkdown, sanitizeForCode } from './escape.js';
import { templateError, type HbsLoc, type TemplateSite } from './location.js';
import { displayWidth, graphemes, padEnd, padStart } from './width.js';

type Options = Handlebars.HelperOptions & { loc?: HbsLoc; ids?: unknown[]; name?: string };

export interface RenderData {
  locale: string;
  timezone: string;
  site: TemplateSite;
  root?: Record<string, unknown>;
}

class Call {
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

  arity(params: unknown[], min: number, max: number, usage: string): void {
    if (params.length < min || params.length > max) {
      this.fail(`expected ${min === max ? min : `${min}–${max}`} argument(s), got ${params.length}`, this.shadowHint(params) ?? `usage: ${usage}`);
    }
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

function preview(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (value instanceof Date) return `Date(${value.toISOString()})`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const s = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

// ---------------------------------------------------------------- locale texts

interface Texts {
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

function textsFor(locale: string): Texts {
  return locale.toLowerCase().startsWith('ru') ? TEXTS.ru : TEXTS.en;
}

// ---------------------------------------------------------------- Intl caches

const numberFormats = new Map<string, Intl.NumberFormat>();
/**
 * Every number the helpers print goes through here. `signDisplay: 'negative'` drops the sign of a
 * value that rounds to zero (-0.004 → "0", not "-0") and of -0 itself, in every style.
 */
function nf(locale: string, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
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

const MINUS = '\u2212';

// ---------------------------------------------------------------- helpers

type HelperImpl = (call: Call, params: unknown[]) => unknown;

function define(impl: HelperImpl, name: string) {
  return function (this: unknown, ...args: unknown[]) {
    const options = args.pop() as Options;
    return impl(new Call(name, options, this), args);
  };
}

function optionalDecimals(call: Call, params: unknown[], index: number): number | undefined {
  const fromHash = call.hash.decimals;
  const v = params[index] ?? fromHash;
  return v === undefined ? undefined : call.integer(v, index, 0, 20);
}

const numberHelpers: Record<string, HelperImpl> = {
  number(call, p) {
    call.arity(p, 1, 2, '{{number value [decimals]}}');
    const n = call.maybeNumber(p[0], 0);
    if (n === null) return RENDER_DEFAULTS.nullText;
    return formatNumber(call.locale, n, optionalDecimals(call, p, 1));
  },
  compact(call, p) {
    call.arity(p, 1, 1, '{{compact value}}');
    const n = call.maybeNumber(p[0], 0);
    if (n === null) return RENDER_DEFAULTS.nullText;
    return nf(call.locale, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
  },
  percent(call, p) {
    call.arity(p, 1, 2, '{{percent ratio [decimals]}}  (0.125 → 12,5 %)');
    const n = call.maybeNumber(p[0], 0);
    if (n === null) return RENDER_DEFAULTS.nullText;
    const d = optionalDecimals(call, p, 1);
    const opts: Intl.NumberFormatOptions =
      d === undefined ? { style: 'percent', maximumFractionDigits: 1 } : { style: 'percent', minimumFractionDigits: d, maximumFractionDigits: d };
    return nf(call.locale, opts).format(n);
  },
  currency(call, p) {
    call.arity(p, 1, 3, '{{currency value ["RUB"] [decimals]}}');
    const n = call.maybeNumber(p[0], 0);
    const code = p[1] === undefined ? RENDER_DEFAULTS.currency : call.string(p[1], 1).toUpperCase();
    if (!/^[A-Z]{3}$/.test(code)) call.fail(`currency code must be three letters (ISO 4217), got ${preview(p[1])}`);
    if (n === null) return RENDER_DEFAULTS.nullText;
    const d = optionalDecimals(call, p, 2);
    // narrowSymbol: "₽5.00" in en-US too, not "RUB 5.00"; ru-RU prints "₽" either way.
    const opts: Intl.NumberFormatOptions = { style: 'currency', currency: code, currencyDisplay: 'narrowSymbol' };
    if (d !== undefined) Object.assign(opts, { minimumFractionDigits: d, maximumFractionDigits: d });
    return nf(call.locale, opts).format(n);
  },
  delta(call, p) {
    call.arity(p, 2, 3, '{{delta current previous [decimals]}}');
    const cur = call.maybeNumber(p[0], 0);
    const prev = call.maybeNumber(p[1], 1);
    const d = optionalDecimals(call, p, 2) ?? RENDER_DEFAULTS.deltaDecimals;
    if (cur === null || prev === null) return RENDER_DEFAULTS.nullText;
    if (prev === 0) return cur === 0 ? '— 0%' : `${cur > 0 ? '▲' : '▼'} ${call.text.new}`;
    const pct = roundTo(((cur - prev) / Math.abs(prev)) * 100, d);
    if (pct === 0) return '— 0%';
    const abs = nf(call.locale, { maximumFractionDigits: d }).format(Math.abs(pct));
    return pct > 0 ? `▲ +${abs}%` : `▼ ${MINUS}${abs}%`;
  },
  change(call, p) {
    call.arity(p, 2, 3, '{{change current previous [decimals]}}');
    const cur = call.maybeNumber(p[0], 0);
    const prev = call.maybeNumber(p[1], 1);
    const d = optionalDecimals(call, p, 2) ?? RENDER_DEFAULTS.deltaDecimals;
    if (cur === null || prev === null) return RENDER_DEFAULTS.nullText;
    const diff = cur - prev;
    const absText = formatNumber(call.locale, Math.abs(diff));
    if (absText === formatNumber(call.locale, 0)) return '— 0';
    const arrow = diff > 0 ? `▲ +${absText}` : `▼ ${MINUS}${absText}`;
    if (prev === 0) return arrow;
    const pct = roundTo((diff / Math.abs(prev)) * 100, d);
    const pctText = nf(call.locale, { maximumFractionDigits: d }).format(Math.abs(pct));
    // A change too small for the precision is "0%", never "+0%" next to a ▼ (or "−0%").
    const sign = pct === 0 ? '' : pct > 0 ? '+' : MINUS;
    return `${arrow} (${sign}${pctText}%)`;
  },
  status(call, p) {
    call.arity(p, 3, 4, '{{status value warn crit [inverse]}}');
    const v = call.maybeNumber(p[0], 0);
    const warn = call.number(p[1], 1);
    const crit = call.number(p[2], 2);
    const inv = p[3] ?? call.hash.inverse;
    const inverse = inv === true || inv === 'inverse' || inv === 'true';
    if (inv !== undefined && !inverse && inv !== false && inv !== 'false') {
      call.fail(`the 4th argument must be true or "inverse", got ${preview(inv)}`);
    }
    if (!inverse && warn > crit) call.fail(`warn (${warn}) must not exceed crit (${crit})`, 'for "lower is worse" pass inverse: {{status v warn crit true}}');
    if (inverse && warn < crit) call.fail(`with inverse, warn (${warn}) must not be below crit (${crit})`);
    if (v === null) return '⚪';
    if (!inverse) return v >= crit ? '🔴' : v >= warn ? '🟡' : '🟢';
    return v <= crit ? '🔴' : v <= warn ? '🟡' : '🟢';
  },
};

function roundTo(n: number, decimals: number): number {
  const f = 10 ** decimals;
  const r = Math.round(Math.abs(n) * f) / f;
  return n < 0 ? -r : r;
}

// ---------------------------------------------------------------- dates

function toDateTime(call: Call, value: unknown, i: number): DateTime {
  let dt: DateTime | undefined;
  if (value instanceof Date) dt = DateTime.fromJSDate(value);
  else if (DateTime.isDateTime(value)) dt = value;
  else if (typeof value === 'number') dt = DateTime.fromMillis(value);
  else if (typeof value === 'string') dt = DateTime.fromISO(value, { setZone: false });
  if (value === undefined) call.fail(`${call.what(i)} is undefined`, 'the field is missing: check its name');
  if (!dt) return call.fail(`${call.what(i)} is not a date: ${preview(value)}`, 'pass a Date, an ISO string or epoch milliseconds');
  if (!dt.isValid) call.fail(`${call.what(i)} is not a valid date: ${preview(value)}`);
  const zoned = dt.setZone(call.timezone).setLocale(call.locale);
  if (!zoned.isValid) call.fail(`unknown timezone "${call.timezone}"`);
  return zoned;
}

const dateHelpers: Record<string, HelperImpl> = {
  date(call, p) {
    call.arity(p, 1, 2, '{{date value ["d MMMM yyyy"]}}  (luxon tokens)');
    if (p[0] === null) return RENDER_DEFAULTS.nullText;
    const dt = toDateTime(call, p[0], 0);
    const fmt = p[1] === undefined ? RENDER_DEFAULTS.dateFormat : call.string(p[1], 1);
    return dt.toFormat(fmt);
  },
  period(call, p) {
    call.arity(p, 0, 1, '{{period}} or {{period someRange}}');
    const data = call.options.data as Partial<RenderData> | undefined;
    const value = p.length === 1 ? p[0] : data?.root?.period;
    if (value === null || typeof value !== 'object') {
      call.fail(`expects a period with start and end, got ${preview(value)}`, 'without arguments it formats the context `period`');
    }
    const range = value as { start?: unknown; end?: unknown };
    const start = toDateTime(call, range.start, 0);
    const end = toDateTime(call, range.end, 0);
    if (end <= start) call.fail('period end must be after its start');
    return formatPeriod(start, end, call.text, call.locale.toLowerCase().startsWith('ru'));
  },
  duration(call, p) {
    call.arity(p, 1, 2, '{{duration milliseconds [units]}}');
    const ms = call.maybeNumber(p[0], 0);
    const units = p[1] === undefined ? RENDER_DEFAULTS.durationUnits : call.integer(p[1], 1, 1, 4);
    if (ms === null) return RENDER_DEFAULTS.nullText;
    if (ms < 0) call.fail(`${call.what(0)} must not be negative, got ${ms}`);
    return formatDurationText(ms, units, call.text);
  },
};

export function formatDurationText(ms: number, maxUnits: number, t: Texts): string {
  if (ms < 1000) return `${Math.round(ms)} ${t.units.ms}`;
  let rest = Math.round(ms / 1000);
  const amounts: Array<[keyof Texts['units'], number]> = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    amounts.push([unit, Math.floor(rest / size)]);
    rest %= size;
  }
  // The most significant units only, consecutive: "2 ч 5 мин", never "2 ч 7 с"; zeros are dropped.
  const first = amounts.findIndex(([, n]) => n > 0);
  return amounts
    .slice(first, first + maxUnits)
    .filter(([, n]) => n > 0)
    .map(([unit, n]) => `${n} ${t.units[unit]}`)
    .join(' ');
}

/** "за 24 ноября", "за неделю 17–23 ноября", "за ноябрь 2026", or an explicit range. End is exclusive. */
export function formatPeriod(start: DateTime, end: DateTime, t: Texts, ru: boolean): string {
  const last = end.minus({ milliseconds: 1 });
  const wholeDays = start.equals(start.startOf('day')) && end.equals(end.startOf('day'));
  const dayMonth = ru ? 'd MMMM' : 'MMMM d';
  if (wholeDays) {
    const days = Math.round(end.diff(start, 'days').days);
    if (start.day === 1 && end.equals(start.plus({ months: 1 }))) {
      return `${t.for} ${start.toFormat('LLLL yyyy')}`;
    }
    if (days === 1) return `${t.for} ${start.toFormat(dayMonth)}`;
    const prefix = days === 7 ? t.week : t.for;
    return `${prefix} ${dayRange(start, last, ru)}`;
  }
  const time = 'HH:mm';
  if (start.hasSame(last, 'day')) {
    return `${t.for} ${start.toFormat(dayMonth)}${ru ? '' : ','} ${start.toFormat(time)}–${end.toFormat(time)}`;
  }
  const sep = ru ? ' ' : ', ';
  return `${t.for} ${start.toFormat(dayMonth)}${sep}${start.toFormat(time)} – ${end.toFormat(dayMonth)}${sep}${end.toFormat(time)}`;
}

function dayRange(start: DateTime, last: DateTime, ru: boolean): string {
  const year = start.hasSame(last, 'year') ? '' : ' yyyy';
  if (start.hasSame(last, 'month')) {
    return ru ? `${start.day}–${last.toFormat('d MMMM')}` : `${start.toFormat('MMMM d')}–${last.day}`;
  }
  const fmt = (ru ? 'd MMMM' : 'MMMM d') + year;
  return `${start.toFormat(fmt)} – ${last.toFormat(fmt)}`;
}

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

const textHelpers: Record<string, HelperImpl> = {
  plural(call, p) {
    call.arity(p, 2, 5, '{{plural n "задача" "задачи" "задач"}}  (with_number=false to omit the number)');
    const n = call.number(p[0], 0);
    const forms = p.slice(1).map((f, i) => call.string(f, i + 1));
    const names = pluralFormNames(call.locale);
    if (forms.length < names.length) {
      // One form would print "3 задача": every number needs its own word form.
      call.fail(
        `${call.locale} needs ${names.length} word forms (${names.join(', ')}), got ${forms.length}: ${forms.map((f) => JSON.stringify(f)).join(' ')}`,
        `write {{plural n ${PLURAL_EXAMPLES[names.length] ?? names.map((f) => `"${f}"`).join(' ')}}}`,
      );
    }
    const word = pluralForm(call.locale, n, forms);
    const withNumber = call.hash.with_number;
    if (withNumber === false || withNumber === 'false') return word;
    return `${formatNumber(call.locale, n)} ${word}`;
  },
  truncate(call, p) {
    call.arity(p, 2, 2, '{{truncate text maxChars}}');
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
  },
  default(call, p) {
    call.arity(p, 2, 2, '{{default value fallback}}');
    const v = p[0];
    return v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v)) ? p[1] : v;
  },
  join(call, p) {
    call.arity(p, 1, 2, '{{join array [", "]}}');
    const arr = call.array(p[0], 0);
    const sep = p[1] === undefined ? ', ' : call.string(p[1], 1);
    return arr.map((v) => (v === null || v === undefined ? '' : String(v))).join(sep);
  },
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
  call.arity(p, 2, 2, `{{#if (${call.name} a b)}}`);
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

const logicHelpers: Record<string, HelperImpl> = {
  add: (c, p) => (c.arity(p, 2, 2, '{{add a b}}'), c.number(p[0], 0) + c.number(p[1], 1)),
  sub: (c, p) => (c.arity(p, 2, 2, '{{sub a b}}'), c.number(p[0], 0) - c.number(p[1], 1)),
  mul: (c, p) => (c.arity(p, 2, 2, '{{mul a b}}'), c.number(p[0], 0) * c.number(p[1], 1)),
  div(c, p) {
    c.arity(p, 2, 2, '{{div a b}}');
    const a = c.number(p[0], 0);
    const b = c.number(p[1], 1);
    if (b === 0) c.fail(`division by zero (${c.what(1)} is 0)`, 'guard it: {{#if (ne b 0)}}…{{/if}}');
    return a / b;
  },
  round(c, p) {
    c.arity(p, 1, 2, '{{round value [decimals]}}');
    const n = c.number(p[0], 0);
    const d = p[1] === undefined ? 0 : c.integer(p[1], 1, 0, 20);
    return roundTo(n, d);
  },
  gt: (c, p) => compare(c, p, (d) => d > 0),
  gte: (c, p) => compare(c, p, (d) => d >= 0),
  lt: (c, p) => compare(c, p, (d) => d < 0),
  lte: (c, p) => compare(c, p, (d) => d <= 0),
  eq: (c, p) => (c.arity(p, 2, 2, '{{#if (eq a b)}}'), equal(p[0], p[1])),
  ne: (c, p) => (c.arity(p, 2, 2, '{{#if (ne a b)}}'), !equal(p[0], p[1])),
  and: (c, p) => (c.arity(p, 2, 20, '{{#if (and a b …)}}'), p.every(truthy)),
  or: (c, p) => (c.arity(p, 2, 20, '{{#if (or a b …)}}'), p.some(truthy)),
  not: (c, p) => (c.arity(p, 1, 1, '{{#if (not a)}}'), !truthy(p[0])),
};

// ---------------------------------------------------------------- arrays

function field(call: Call, item: unknown, key: string, index: number): unknown {
  let cur: unknown = item;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, part)) {
      return call.fail(`item ${index + 1} has no field "${key}"`, 'check the key name (nested keys use dots: "a.b")');
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function values(call: Call, p: unknown[], usage: string): number[] {
  call.arity(p, 1, 2, usage);
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

const arrayHelpers: Record<string, HelperImpl> = {
  sum: (c, p) => values(c, p, '{{sum array ["key"]}}').reduce((a, b) => a + b, 0),
  avg(c, p) {
    const v = values(c, p, '{{avg array ["key"]}}');
    return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
  },
  min(c, p) {
    const v = values(c, p, '{{min array ["key"]}}');
    return v.length === 0 ? null : Math.min(...v);
  },
  max(c, p) {
    const v = values(c, p, '{{max array ["key"]}}');
    return v.length === 0 ? null : Math.max(...v);
  },
  count(c, p) {
    c.arity(p, 1, 1, '{{count array}}');
    if (p[0] === null) return 0;
    if (p[0] !== undefined && typeof p[0] === 'object' && !Array.isArray(p[0])) return Object.keys(p[0]).length;
    return c.array(p[0], 0).length;
  },
  sortBy(c, p) {
    c.arity(p, 1, 3, '{{#each (sortBy array "key" ["desc"])}}');
    const arr = c.array(p[0], 0);
    const key = p[1] === undefined ? undefined : c.string(p[1], 1);
    const dir = p[2] === undefined ? 'asc' : c.string(p[2], 2);
    if (dir !== 'asc' && dir !== 'desc') c.fail(`direction must be "asc" or "desc", got ${preview(p[2])}`);
    return sortItems(c, arr, key, dir === 'desc');
  },
  top(c, p) {
    c.arity(p, 2, 3, '{{#each (top array n ["key"])}}');
    const arr = c.array(p[0], 0);
    const n = c.integer(p[1], 1, 0, 1_000_000);
    const key = p[2] === undefined ? undefined : c.string(p[2], 2);
    return sortItems(c, arr, key, true).slice(0, n);
  },
  pluck(c, p) {
    c.arity(p, 2, 2, '{{join (pluck array "key")}}');
    const arr = c.array(p[0], 0);
    const key = c.string(p[1], 1);
    return arr.map((item, i) => field(c, item, key, i));
  },
};

// ---------------------------------------------------------------- Pachca

const SPARKS = '▁▂▃▄▅▆▇█';

function seriesValue(c: Call, point: unknown): number | null {
  // Prometheus range vectors give [unixSeconds, "value"].
  const v = Array.isArray(point) ? point[1] : point;
  if (v === null || v === undefined || v === 'NaN') return null;
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return c.maybeNumber(v, 0);
}

const ATTACHMENT_WORDS: Record<string, { ru: string; en: string }> = {
  chart: { ru: 'график', en: 'chart' },
  table: { ru: 'таблица', en: 'table' },
  csv: { ru: 'CSV', en: 'CSV' },
  xlsx: { ru: 'Excel', en: 'Excel' },
  markdown: { ru: 'подробности', en: 'details' },
};

const pachcaHelpers: Record<string, HelperImpl> = {
  /** "📎 Во вложении: график «Выручка», таблица регионы.md": the message's files, from the context's `attachments`. */
  attachments_note(c, p) {
    c.arity(p, 0, 0, '{{attachments_note}}');
    const list = (c.options.data as Partial<RenderData> | undefined)?.root?.attachments;
    if (!Array.isArray(list) || list.length === 0) return '';
    const ru = c.locale.toLowerCase().startsWith('ru');
    const parts = (list as Array<{ kind: string; name: string; title: string | null }>).map((a) => {
      const word = ATTACHMENT_WORDS[a.kind] ?? { ru: 'файл', en: 'file' };
      return `${ru ? word.ru : word.en} ${a.title ? (ru ? `«${a.title}»` : `"${a.title}"`) : a.name}`;
    });
    return `📎 ${ru ? 'Во вложении' : 'Attached'}: ${parts.join(', ')}`;
  },
  mention(c, p) {
    c.arity(p, 1, 1, '{{mention user_id}}');
    const raw = p[0];
    const id = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
      c.fail(`${c.what(0)} must be a positive integer user id, got ${preview(raw)}`);
    }
    return new Handlebars.SafeString(`<@${id}>`);
  },
  link(c, p) {
    c.arity(p, 2, 2, '{{link text url}}');
    const url = c.string(p[1], 1).trim();
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return c.fail(`${c.what(1)} is not a valid URL: ${preview(url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      c.fail(`only http(s) links are allowed, got ${preview(parsed.protocol)}`);
    }
    // Parentheses and spaces would end the markdown link target early.
    const href = parsed.href.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/ /g, '%20');
    const text = p[0] === null || p[0] === undefined || p[0] === '' ? url : c.string(p[0], 0);
    return new Handlebars.SafeString(`[${escapeMarkdown(text)}](${href})`);
  },
  sparkline(c, p) {
    c.arity(p, 1, 1, '{{sparkline series}}');
    const vals = c.array(p[0], 0).map((pt) => seriesValue(c, pt));
    const present = vals.filter((v): v is number => v !== null);
    if (present.length === 0) return '';
    const min = Math.min(...present);
    const max = Math.max(...present);
    return vals
      .map((v) => {
        if (v === null) return ' ';
        // A flat series is drawn mid-height (or on the floor when it is all zeros): a line, not noise.
        if (max === min) return max === 0 ? SPARKS[0] : SPARKS[3];
        return SPARKS[Math.round(((v - min) / (max - min)) * (SPARKS.length - 1))];
      })
      .join('');
  },
  bar(c, p) {
    c.arity(p, 2, 3, '{{bar value max [width]}}');
    const v = c.maybeNumber(p[0], 0) ?? 0;
    const max = c.number(p[1], 1);
    if (max <= 0) c.fail(`${c.what(1)} must be positive, got ${max}`);
    const width = p[2] === undefined ? RENDER_DEFAULTS.barWidth : c.integer(p[2], 2, 1, 100);
    const fill = c.hash.fill === undefined ? '█' : c.string(c.hash.fill, 0);
    const empty = c.hash.empty === undefined ? '░' : c.string(c.hash.empty, 0);
    const filled = Math.max(0, Math.min(width, Math.round((v / max) * width)));
    return fill.repeat(filled) + empty.repeat(width - filled);
  },
  table(c, p) {
    c.arity(p, 1, 2, '{{table rows ["key:Title,key2:Title2"]}}');
    return new Handlebars.SafeString(renderTable(c, c.array(p[0], 0), p[1]));
  },
};

interface Column {
  key: string;
  title: string;
}

function parseColumns(c: Call, spec: unknown, rows: unknown[]): Column[] {
  const fromPair = (s: string): Column => {
    const at = s.indexOf(':');
    const key = (at === -1 ? s : s.slice(0, at)).trim();
    const title = at === -1 ? key : s.slice(at + 1).trim();
    if (key === '') c.fail(`empty column key in ${preview(spec)}`);
    return { key, title };
  };
  if (spec === undefined) {
    const first = rows.find((r) => r !== null && typeof r === 'object');
    if (first === undefined) return [];
    return Object.keys(first).map((key) => ({ key, title: Array.isArray(first) ? '' : key }));
  }
  if (typeof spec === 'string') return spec.split(',').filter((s) => s.trim() !== '').map(fromPair);
  if (Array.isArray(spec)) {
    return spec.map((s) => {
      if (typeof s === 'string') return fromPair(s);
      if (s && typeof s === 'object' && typeof (s as Column).key === 'string') {
        const col = s as Partial<Column>;
        return { key: col.key!, title: typeof col.title === 'string' ? col.title : col.key! };
      }
      return c.fail(`columns must be "key:Title" strings or {key, title} objects, got ${preview(s)}`);
    });
  }
  if (spec && typeof spec === 'object') {
    return Object.entries(spec).map(([key, title]) => ({ key, title: String(title) }));
  }
  return c.fail(`columns must be "key:Title,…", an array or an object, got ${preview(spec)}`);
}

function renderTable(c: Call, rows: unknown[], spec: unknown): string {
  const columns = parseColumns(c, spec, rows);
  if (columns.length === 0) return '';
  const cells: string[][] = [];
  const numeric = columns.map(() => true);
  rows.forEach((row, r) => {
    if (row === null || typeof row !== 'object') c.fail(`row ${r + 1} is not an object: ${preview(row)}`);
    cells.push(
      columns.map((col, i) => {
        const v = field(c, row, col.key, r);
        if (v === null || v === undefined) return RENDER_DEFAULTS.nullText;
        if (typeof v === 'number' || typeof v === 'bigint') return formatNumber(c.locale, Number(v));
        numeric[i] = false;
        if (v instanceof Date) return DateTime.fromJSDate(v).setZone(c.timezone).setLocale(c.locale).toFormat('dd.LL.yyyy HH:mm');
        return sanitizeForCode(typeof v === 'object' ? JSON.stringify(v) : String(v));
      }),
    );
  });
  const header = columns.map((col) => sanitizeForCode(col.title));
  const widths = columns.map((_, i) => Math.max(displayWidth(header[i]!), ...cells.map((row) => displayWidth(row[i]!))));
  const line = (parts: string[]) =>
    parts.map((s, i) => (numeric[i] && rows.length > 0 ? padStart(s, widths[i]!) : padEnd(s, widths[i]!))).join('  ').trimEnd();
  const out = ['```text'];
  if (header.some((h) => h !== '')) {
    out.push(line(header));
    out.push(widths.map((w) => '─'.repeat(w)).join('  '));
  }
  for (const row of cells) out.push(line(row));
  out.push('```');
  return out.join('\n');
}

// ---------------------------------------------------------------- registry

const ALL: Record<string, HelperImpl> = {
  ...numberHelpers,
  ...dateHelpers,
  ...textHelpers,
  ...logicHelpers,
  ...arrayHelpers,
  ...pachcaHelpers,
};

export const HELPER_NAMES: readonly string[] = Object.keys(ALL).sort();

export function registerHelpers(env: typeof Handlebars): void {
  for (const [name, impl] of Object.entries(ALL)) env.registerHelper(name, define(impl, name));
}
