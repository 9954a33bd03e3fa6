/** Number and date helpers: number, compact, percent, currency, delta, change, status, date, period, duration. */
import { DateTime } from 'luxon';
import { RENDER_DEFAULTS } from './defaults.js';
import { Call, MINUS, formatNumber, helper, nf, preview, roundTo, type HelperSpec, type RenderData, type Texts } from './helper-call.js';

function optionalDecimals(call: Call, params: unknown[], index: number): number | undefined {
  const fromHash = call.hash.decimals;
  const v = params[index] ?? fromHash;
  return v === undefined ? undefined : call.integer(v, index, 0, 20);
}

export const numberHelpers: Record<string, HelperSpec> = {
  number: helper(1, 2, '{{number value [decimals]}}', (call, p) => {
    const n = call.maybeNumber(p[0], 0);
    if (n === null) return RENDER_DEFAULTS.nullText;
    return formatNumber(call.locale, n, optionalDecimals(call, p, 1));
  }),
  compact: helper(1, 1, '{{compact value}}', (call, p) => {
    const n = call.maybeNumber(p[0], 0);
    if (n === null) return RENDER_DEFAULTS.nullText;
    return nf(call.locale, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
  }),
  percent: helper(1, 2, '{{percent ratio [decimals]}}  (0.125 → 12,5 %)', (call, p) => {
    const n = call.maybeNumber(p[0], 0);
    if (n === null) return RENDER_DEFAULTS.nullText;
    const d = optionalDecimals(call, p, 1);
    const opts: Intl.NumberFormatOptions =
      d === undefined ? { style: 'percent', maximumFractionDigits: 1 } : { style: 'percent', minimumFractionDigits: d, maximumFractionDigits: d };
    return nf(call.locale, opts).format(n);
  }),
  currency: helper(1, 3, '{{currency value ["RUB"] [decimals]}}', (call, p) => {
    const n = call.maybeNumber(p[0], 0);
    const code = p[1] === undefined ? RENDER_DEFAULTS.currency : call.string(p[1], 1).toUpperCase();
    if (!/^[A-Z]{3}$/.test(code)) call.fail(`currency code must be three letters (ISO 4217), got ${preview(p[1])}`);
    if (n === null) return RENDER_DEFAULTS.nullText;
    const d = optionalDecimals(call, p, 2);
    // narrowSymbol: "₽5.00" in en-US too, not "RUB 5.00"; ru-RU prints "₽" either way.
    const opts: Intl.NumberFormatOptions = { style: 'currency', currency: code, currencyDisplay: 'narrowSymbol' };
    if (d !== undefined) Object.assign(opts, { minimumFractionDigits: d, maximumFractionDigits: d });
    return nf(call.locale, opts).format(n);
  }),
  delta: helper(2, 3, '{{delta current previous [decimals]}}', (call, p) => {
    const cur = call.maybeNumber(p[0], 0);
    const prev = call.maybeNumber(p[1], 1);
    const d = optionalDecimals(call, p, 2) ?? RENDER_DEFAULTS.deltaDecimals;
    if (cur === null || prev === null) return RENDER_DEFAULTS.nullText;
    if (prev === 0) return cur === 0 ? '— 0%' : `${cur > 0 ? '▲' : '▼'} ${call.text.new}`;
    const pct = roundTo(((cur - prev) / Math.abs(prev)) * 100, d);
    if (pct === 0) return '— 0%';
    const abs = nf(call.locale, { maximumFractionDigits: d }).format(Math.abs(pct));
    return pct > 0 ? `▲ +${abs}%` : `▼ ${MINUS}${abs}%`;
  }),
  change: helper(2, 3, '{{change current previous [decimals]}}', (call, p) => {
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
  }),
  status: helper(3, 4, '{{status value warn crit [inverse]}}', (call, p) => {
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
  }),
};


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

export const dateHelpers: Record<string, HelperSpec> = {
  date: helper(1, 2, '{{date value ["d MMMM yyyy"]}}  (luxon tokens)', (call, p) => {
    if (p[0] === null) return RENDER_DEFAULTS.nullText;
    const dt = toDateTime(call, p[0], 0);
    const fmt = p[1] === undefined ? RENDER_DEFAULTS.dateFormat : call.string(p[1], 1);
    return dt.toFormat(fmt);
  }),
  period: helper(0, 1, '{{period}} or {{period someRange}}', (call, p) => {
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
  }),
  duration: helper(1, 2, '{{duration milliseconds [units]}}', (call, p) => {
    const ms = call.maybeNumber(p[0], 0);
    const units = p[1] === undefined ? RENDER_DEFAULTS.durationUnits : call.integer(p[1], 1, 1, 4);
    if (ms === null) return RENDER_DEFAULTS.nullText;
    if (ms < 0) call.fail(`${call.what(0)} must not be negative, got ${ms}`);
    return formatDurationText(ms, units, call.text);
  }),
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
