import { z } from 'zod';
import { parseDuration } from '../../util/index.js';
import { defineSource, lazySchema, type SourceContext } from '../define.js';
import { SourceError } from '../errors.js';
import { requestJson, safeUrl } from '../http-client.js';

export const PROMETHEUS_DEFAULTS = {
  maxBytes: 5 * 1024 * 1024,
  /** Range queries without `step` get about this many points: enough for a sparkline. */
  rangePoints: 60,
} as const;

const querySchema = lazySchema(() =>
  z.union([
    z.string().min(1).describe('PromQL, evaluated at the period end'),
    z
      .object({
        query: z.string().min(1).describe('PromQL expression'),
        type: z.enum(['instant', 'range']).default('instant').describe('instant: value at the period end; range: series over the period'),
        step: z.union([z.string(), z.number()]).optional().describe('Range step ("5m", or seconds); default: period / 60'),
        by: z.string().optional().describe('Label whose values key the result map instead of a list'),
      })
      .strict(),
  ]),
);

type QueryOptions = z.output<ReturnType<typeof querySchema>>;

export type Sample = { labels: Record<string, string>; value: number | null };
export type Series = { labels: Record<string, string>; values: Array<[number, number | null]> };

const options = lazySchema(() =>
  z
    .object({
      url: z.string().url().describe('Prometheus base URL, e.g. http://prometheus:9090'),
      queries: z
        .record(z.string(), querySchema())
        .refine((q) => Object.keys(q).length > 0, 'at least one query')
        .describe('name → PromQL string, or { query, type: instant|range, step?, by? }'),
      headers: z.record(z.string(), z.string()).optional().describe('Request headers (e.g. Authorization for a proxy)'),
      max_bytes: z.number().int().positive().default(PROMETHEUS_DEFAULTS.maxBytes).describe('Largest accepted response per query, bytes'),
    })
    .strict(),
);

/**
 * Prometheus HTTP API. Each entry of `queries` becomes `metrics.<name>`:
 *  - instant vector: a number when the result is one sample without labels (`sum(...)`), else
 *    `[{ labels, value }]`, or `{ [labelValue]: value }` with `by: label`; empty → null / [] / {};
 *  - range matrix: one series without labels → `[[epochSeconds, value], …]` (what `sparkline`
 *    takes), else `[{ labels, values: [[t, v], …] }]`, or `{ [labelValue]: [[t, v], …] }` with `by`;
 *  - scalar → number, string → string. NaN and ±Inf become null.
 */
export default defineSource({
  name: 'prometheus',
  description: 'Запросы PromQL к Prometheus: мгновенные значения и ряды за период.',
  get options() {
    return options();
  },
  async collect(ctx) {
    const entries = Object.entries(ctx.options.queries);
    const values = await Promise.all(entries.map(([name, q]) => runQuery(ctx, name, q)));
    return Object.fromEntries(entries.map(([name], i) => [name, values[i]]));
  },
});

async function runQuery(
  ctx: SourceContext<{ url: string; headers?: Record<string, string>; max_bytes: number }>,
  name: string,
  q: QueryOptions,
): Promise<unknown> {
  const spec = typeof q === 'string' ? { query: q, type: 'instant' as const, step: undefined, by: undefined } : q;
  const base = ctx.options.url.replace(/\/+$/, '');
  // Never ask about the future: a period that ends after now has no samples there yet.
  const end = Math.min(ctx.period.end.getTime(), ctx.now.getTime()) / 1000;
  const start = ctx.period.start.getTime() / 1000;
  const params = new URLSearchParams({ query: spec.query });
  let path: string;
  if (spec.type === 'range') {
    let step: number;
    if (spec.step !== undefined) {
      const ms = parseDuration(spec.step);
      if (ms === undefined || ms <= 0) throw new SourceError(`query "${name}": invalid step ${JSON.stringify(spec.step)}`, { hint: 'Use "30s", "5m", "1h" or seconds.' });
      step = ms / 1000;
    } else {
      step = Math.max(1, Math.ceil((end - start) / PROMETHEUS_DEFAULTS.rangePoints));
    }
    path = '/api/v1/query_range';
    params.set('start', String(start));
    params.set('end', String(Math.max(start, end)));
    params.set('step', String(step));
  } else {
    path = '/api/v1/query';
    params.set('time', String(end));
  }
  const url = `${base}${path}?${params}`;
  let status: number;
  let data: unknown;
  try {
    ({ status, data } = await requestJson({
      url,
      headers: ctx.options.headers,
      maxBytes: ctx.options.max_bytes,
      dispatcher: ctx.http,
      signal: ctx.signal,
      returnErrorBodies: true,
    }));
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    throw new SourceError(`query "${name}": ${err.message}`, {
      transient: err.transient,
      hint: /^HTTP 404/.test(err.message) ? 'url is the Prometheus base URL, without /api/v1 or /graph.' : err.hint,
      cause: err,
    });
  }
  const body = data as { status?: string; errorType?: string; error?: string; data?: { resultType: string; result: unknown } } | null;
  if (!body || typeof body !== 'object' || (body.status !== 'success' && body.status !== 'error')) {
    throw new SourceError(`query "${name}": ${safeUrl(url)} answered HTTP ${status} with something that is not the Prometheus API`, {
      transient: status >= 500,
      hint: 'url is the Prometheus base URL (without /api/v1).',
    });
  }
  if (body.status === 'error') {
    throw new SourceError(`query "${name}": ${body.errorType ?? 'error'}: ${body.error ?? `HTTP ${status}`}`, {
      transient: status >= 500 || ['timeout', 'internal', 'unavailable', 'canceled'].includes(body.errorType ?? ''),
      hint: body.errorType === 'bad_data' ? `Check the PromQL: ${spec.query}` : undefined,
    });
  }
  return shapeResult(body.data?.resultType ?? '', body.data?.result, spec.by);
}

function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

type RawSample = { metric: Record<string, string>; value: [number, string] };
type RawSeries = { metric: Record<string, string>; values: Array<[number, string]> };

export function shapeResult(resultType: string, result: unknown, by?: string): unknown {
  switch (resultType) {
    case 'scalar':
      return num((result as [number, string])[1]);
    case 'string':
      return (result as [number, string])[1];
    case 'vector': {
      const samples = (result as RawSample[]).map((s) => ({ labels: s.metric ?? {}, value: num(s.value?.[1]) }));
      if (by) return Object.fromEntries(samples.map((s) => [s.labels[by] ?? '', s.value]));
      if (samples.length === 1 && Object.keys(samples[0]!.labels).length === 0) return samples[0]!.value;
      if (samples.length === 0) return null;
      return samples;
    }
    case 'matrix': {
      const series = (result as RawSeries[]).map((s) => ({
        labels: s.metric ?? {},
        values: (s.values ?? []).map(([t, v]) => [t, num(v)] as [number, number | null]),
      }));
      if (by) return Object.fromEntries(series.map((s) => [s.labels[by] ?? '', s.values]));
      if (series.length === 1 && Object.keys(series[0]!.labels).length === 0) return series[0]!.values;
      return series;
    }
    default:
      throw new SourceError(`unexpected Prometheus result type "${resultType}"`);
  }
}
