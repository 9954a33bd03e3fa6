/**
 * `{{…}}` placeholders in http/command options — the period a digest covers, so requests can ask
 * for exactly that window. Only these names exist (a typo is an error, not an empty string):
 *
 *   {{period.startIso}} {{period.endIso}}     ISO 8601 with the job timezone offset
 *   {{period.start}}    {{period.end}}        Unix epoch seconds
 *   {{period.startMs}}  {{period.endMs}}      Unix epoch milliseconds
 *   {{period.startDate}} {{period.endDate}}   YYYY-MM-DD in the job timezone (end is exclusive)
 *   {{period.timezone}} {{job.name}} {{now.iso}}
 */
import type { Period, SourceContext } from './define.js';
import { SourceError } from './errors.js';

export function placeholderValues(ctx: Pick<SourceContext, 'period' | 'job' | 'now'>): Record<string, string> {
  const p: Period = ctx.period;
  return {
    'period.startIso': p.startIso,
    'period.endIso': p.endIso,
    'period.start': String(Math.floor(p.start.getTime() / 1000)),
    'period.end': String(Math.floor(p.end.getTime() / 1000)),
    'period.startMs': String(p.start.getTime()),
    'period.endMs': String(p.end.getTime()),
    'period.startDate': p.startIso.slice(0, 10),
    'period.endDate': p.endIso.slice(0, 10),
    'period.timezone': p.timezone,
    'job.name': ctx.job.name,
    'now.iso': ctx.now.toISOString(),
  };
}

const PLACEHOLDER = /\{\{\s*([\w.]+)\s*\}\}/g;

export function fillPlaceholders(text: string, values: Record<string, string>, encode?: (s: string) => string): string {
  return text.replace(PLACEHOLDER, (_m, key: string) => {
    const v = values[key];
    if (v === undefined) {
      throw new SourceError(`unknown placeholder {{${key}}}`, {
        hint: `Available: ${Object.keys(values).map((k) => `{{${k}}}`).join(', ')}`,
      });
    }
    return encode ? encode(v) : v;
  });
}

/** Fills placeholders in every string of a JSON value (request bodies). */
export function fillDeep(value: unknown, values: Record<string, string>): unknown {
  if (typeof value === 'string') return fillPlaceholders(value, values);
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, values));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v, values)]));
  }
  return value;
}
