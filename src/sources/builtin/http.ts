import { z } from 'zod';
import { defineSource, lazySchema } from '../define.js';
import { SourceError } from '../errors.js';
import { fillDeep, fillPlaceholders, placeholderValues } from '../placeholders.js';
import { requestJson } from '../http-client.js';

export const HTTP_DEFAULTS = {
  maxBytes: 5 * 1024 * 1024,
} as const;

type Expression = { evaluate(input: unknown, bindings?: Record<string, unknown>): Promise<unknown> };
const compiled = new Map<string, Expression>();

const options = lazySchema(() =>
  z
    .object({
      url: z.string().min(1).describe('URL of a JSON API; may use {{period.startIso}}, {{period.start}} and other placeholders'),
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET').describe('HTTP method'),
      headers: z.record(z.string(), z.string()).optional().describe('Request headers, e.g. Authorization: "Bearer ${API_TOKEN}"'),
      query: z
        .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
        .optional()
        .describe('Query string parameters (placeholders allowed)'),
      body: z.unknown().optional().describe('Request body: an object is sent as JSON, a string as is (placeholders allowed)'),
      select: z.string().min(1).optional().describe('JSONata expression applied to the response, e.g. "data.items[status=\'open\'].{ \'title\': title }"'),
      max_bytes: z.number().int().positive().default(HTTP_DEFAULTS.maxBytes).describe('Largest accepted response, bytes'),
    })
    .strict(),
);

/**
 * A JSON API. `url`, `query` values, header values and strings inside `body` may use the period
 * placeholders (see placeholders.ts). `select` is a JSONata expression over the parsed response,
 * with `$period` ({ startIso, endIso, start, end } — start/end in epoch seconds) and `$job` bound.
 */
export default defineSource({
  name: 'http',
  description: 'JSON по HTTP(S); select — выражение JSONata для выборки из ответа.',
  get options() {
    return options();
  },
  async collect(ctx) {
    const o = ctx.options;
    const values = placeholderValues(ctx);
    let url: URL;
    try {
      url = new URL(fillPlaceholders(o.url, values, encodeURIComponent));
    } catch (err) {
      if (err instanceof SourceError) throw err;
      throw new SourceError(`invalid url "${o.url}"`, { hint: 'Use an absolute http:// or https:// URL.' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SourceError(`unsupported URL scheme ${url.protocol}`, { hint: 'Use http:// or https://.' });
    }
    for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.append(k, fillPlaceholders(String(v), values));
    const headers = Object.fromEntries(Object.entries(o.headers ?? {}).map(([k, v]) => [k, fillPlaceholders(v, values)]));
    const { data } = await requestJson({
      url: url.href,
      method: o.method,
      headers,
      body: o.body === undefined ? undefined : fillDeep(o.body, values),
      maxBytes: o.max_bytes,
      dispatcher: ctx.http,
      signal: ctx.signal,
    });
    if (!o.select) return data;
    const expr = await compileJsonata(o.select);
    try {
      const out = await expr.evaluate(data, {
        period: {
          startIso: ctx.period.startIso,
          endIso: ctx.period.endIso,
          start: Number(values['period.start']),
          end: Number(values['period.end']),
          timezone: ctx.period.timezone,
        },
        job: ctx.job,
      });
      return out === undefined ? null : out;
    } catch (err) {
      throw new SourceError(`select failed: ${jsonataMessage(err)}`, { hint: 'Try the expression on the response at https://try.jsonata.org.' });
    }
  },
});

export async function compileJsonata(source: string): Promise<Expression> {
  let expr = compiled.get(source);
  if (expr) return expr;
  const jsonata = (await import('jsonata')).default;
  try {
    expr = jsonata(source) as unknown as Expression;
  } catch (err) {
    throw new SourceError(`invalid select expression: ${jsonataMessage(err)}`, {
      hint: 'select is a JSONata expression (https://docs.jsonata.org).',
    });
  }
  if (compiled.size > 500) compiled.clear();
  compiled.set(source, expr);
  return expr;
}

function jsonataMessage(err: unknown): string {
  const e = err as { message?: string; position?: number; token?: string };
  return `${e.message ?? String(err)}${e.position !== undefined ? ` (at character ${e.position})` : ''}`;
}
