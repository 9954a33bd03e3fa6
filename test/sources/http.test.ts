import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import httpSource from '../../src/sources/builtin/http.js';
import { collectSources } from '../../src/sources/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { SourceError } from '../../src/sources/errors.js';
import { DAY, run, spec } from './helpers.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let origin: string;
const agent = new Agent({ keepAliveTimeout: 1000 });
const seen: Seen[] = [];
let flaky = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const url = new URL(req.url!, 'http://x');
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      switch (url.pathname) {
        case '/deals':
          return json(200, {
            data: [
              { title: 'ООО Ромашка', stage: 'won', amount: 120000 },
              { title: 'ИП Сидоров', stage: 'lost', amount: 5000 },
              { title: 'АО Вектор', stage: 'won', amount: 30000 },
            ],
          });
        case '/echo':
          return json(200, { method: req.method, query: Object.fromEntries(url.searchParams), body: body ? JSON.parse(body) : null });
        case '/html':
          res.writeHead(200, { 'content-type': 'text/html' });
          return res.end('<html><body>Login required</body></html>');
        case '/forbidden':
          return json(403, { error: 'invalid api key' });
        case '/flaky':
          if (++flaky % 2 === 1) return json(503, { error: 'try later' });
          return json(200, { ok: true });
        case '/big':
          res.writeHead(200, { 'content-type': 'application/json' });
          // No content-length: the limit must hold while streaming.
          res.write('[');
          for (let i = 0; i < 2000; i++) res.write(`${i ? ',' : ''}"${'x'.repeat(100)}"`);
          return res.end(']');
        default:
          return json(404, { error: 'not found' });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await agent.close();
  await new Promise((r) => server.close(r));
});

const ctx = () => ({ http: agent });

describe('http source', () => {
  it('GETs JSON and reshapes it with a JSONata select', async () => {
    const out = await run(
      httpSource,
      { url: `${origin}/deals`, select: "{ 'won': $count(data[stage='won']), 'revenue': $sum(data[stage='won'].amount), 'top': data[stage='won'][0].title }" },
      ctx(),
    );
    expect(out).toEqual({ won: 2, revenue: 150000, top: 'ООО Ромашка' });
  });

  it('fills period placeholders in url, query, headers and body and binds $period in select', async () => {
    const out = await run(
      httpSource,
      {
        url: `${origin}/echo?from={{period.startIso}}`,
        method: 'POST',
        query: { to: '{{period.endIso}}', since: '{{period.start}}', day: '{{period.startDate}}', limit: 10 },
        headers: { authorization: 'Bearer s3cret', 'x-job': '{{job.name}}' },
        body: { range: ['{{period.startMs}}', '{{period.endMs}}'], fixed: 1 },
        select: '$merge([$, { "periodStart": $period.startIso, "epoch": $period.start }])',
      },
      ctx(),
    );
    expect(out.query).toEqual({
      from: '2026-11-25T00:00:00.000+03:00',
      to: '2026-11-26T00:00:00.000+03:00',
      since: String(DAY.start.getTime() / 1000),
      day: '2026-11-25',
      limit: '10',
    });
    expect(out.body).toEqual({ range: [String(DAY.start.getTime()), String(DAY.end.getTime())], fixed: 1 });
    expect(out).toMatchObject({ method: 'POST', periodStart: '2026-11-25T00:00:00.000+03:00', epoch: DAY.start.getTime() / 1000 });
    const last = seen.at(-1)!;
    expect(last.headers.authorization).toBe('Bearer s3cret');
    expect(last.headers['x-job']).toBe('daily');
    expect(last.headers['content-type']).toBe('application/json');
  });

  it('rejects an unknown placeholder by name', async () => {
    await expect(run(httpSource, { url: `${origin}/echo?x={{period.begin}}` }, ctx())).rejects.toThrow('unknown placeholder {{period.begin}}');
  });

  it('reports non-2xx with status and an excerpt, never the query string or headers', async () => {
    const err = await run(httpSource, { url: `${origin}/forbidden?api_key=s3cret`, headers: { authorization: 'Bearer s3cret' } }, ctx()).catch(
      (e: unknown) => e as SourceError,
    );
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toBe(`HTTP 403 from ${origin}/forbidden: {"error":"invalid api key"}`);
    expect(err.message).not.toContain('s3cret');
    expect(err.transient).toBe(false);
    expect(err.hint).toMatch(/credentials/);
  });

  it('treats 5xx and connection errors as transient (collectSources retries them)', async () => {
    const e503 = await run(httpSource, { url: `${origin}/flaky` }, ctx()).catch((e: unknown) => e as SourceError);
    expect(e503.transient).toBe(true);
    expect(e503.message).toMatch(/^HTTP 503 from/);

    flaky = 0;
    const res = await collectSources(
      [spec(httpSource, { url: `${origin}/flaky` }, { retries: 1 })],
      { job: { name: 'daily', timezone: 'Europe/Moscow', locale: 'ru' }, period: DAY, now: new Date(), logger: silentLogger, configDir: '/', http: agent, pachca: () => { throw new Error('unused'); } },
      { retryDelayMs: () => 0 },
    );
    expect(res.metrics).toEqual({ ok: true });

    const refused = await run(httpSource, { url: 'http://127.0.0.1:1/x' }, ctx()).catch((e: unknown) => e as SourceError);
    expect(refused.transient).toBe(true);
    expect(refused.message).toMatch(/request to http:\/\/127\.0\.0\.1:1\/x failed: ECONNREFUSED/);
  });

  it('enforces the response size limit while streaming', async () => {
    await expect(run(httpSource, { url: `${origin}/big`, max_bytes: 10_000 }, ctx())).rejects.toThrow(
      `response from ${origin}/big is larger than 9.8 KB`,
    );
    expect((await run(httpSource, { url: `${origin}/big` }, ctx())).length).toBe(2000);
  });

  it('explains a response that is not JSON and a broken select', async () => {
    await expect(run(httpSource, { url: `${origin}/html` }, ctx())).rejects.toThrow(
      `response from ${origin}/html is not JSON (text/html): <html><body>Login required</body></html>`,
    );
    await expect(run(httpSource, { url: `${origin}/deals`, select: 'data[' }, ctx())).rejects.toThrow(/^invalid select expression: /);
  });

  it('validates options', () => {
    expect(httpSource.options.safeParse({ url: 'http://x', method: 'TRACE' }).success).toBe(false);
    expect(httpSource.options.safeParse({ url: 'http://x', timeout: 5 }).success).toBe(false);
    expect(httpSource.options.parse({ url: 'http://x' })).toEqual({ url: 'http://x', method: 'GET', max_bytes: 5 * 1024 * 1024 });
  });
});
