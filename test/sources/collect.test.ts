import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DigestError } from '../../src/errors.js';
import { Emitter, type DigestEvents } from '../../src/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { collectSources, defineSource, SourceError, type BaseSourceContext } from '../../src/sources/index.js';
import staticSource from '../../src/sources/builtin/static.js';
import { DAY, spec } from './helpers.js';

const base = (over: Partial<BaseSourceContext> = {}): BaseSourceContext => ({
  job: { name: 'daily', timezone: 'Europe/Moscow', locale: 'ru' },
  period: DAY,
  now: new Date('2026-11-25T21:00:05Z'),
  logger: silentLogger,
  configDir: '/etc',
  http: undefined as never,
  pachca: () => {
    throw new Error('unused');
  },
  ...over,
});
const noDelay = { retryDelayMs: () => 0 };
const empty = z.object({}).strict();

/** A source whose behaviour is a function of the attempt number. */
function scripted(fn: (attempt: number, ctx: any) => unknown) {
  let attempt = 0;
  const def = defineSource({ name: 'scripted', options: empty, collect: (ctx) => fn(++attempt, ctx) });
  return { def, attempts: () => attempt };
}

async function sourceError(p: Promise<unknown>): Promise<DigestError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DigestError);
  return err as DigestError;
}

describe('collectSources', () => {
  it('a single unnamed source IS metrics', async () => {
    const res = await collectSources([spec(staticSource, { data: { orders: 3 } })], base());
    expect(res).toEqual({ metrics: { orders: 3 }, notes: [], empty: [] });
  });

  it('named sources run concurrently and are keyed by name', async () => {
    // Each waits for the other to have started: only concurrent execution can finish.
    let release!: () => void;
    const bothStarted = new Promise<void>((r) => (release = r));
    let started = 0;
    const waiter = (value: number) =>
      defineSource({
        name: 'w',
        options: empty,
        async collect() {
          if (++started === 2) release();
          await bothStarted;
          return value;
        },
      });
    const res = await collectSources(
      [spec(waiter(1), {}, { name: 'a' }), spec(waiter(2), {}, { name: 'b' }), spec(staticSource, { data: { x: 1 } }, { name: 'c' })],
      base(),
    );
    expect(res.metrics).toEqual({ a: 1, b: 2, c: { x: 1 } });
  });

  it('wraps a failure as E_SOURCE with job, source, type, config position and hint', async () => {
    const { def } = scripted(() => {
      throw new Error('boom');
    });
    const err = await sourceError(collectSources([spec(def, {}, { name: 'crm', type: 'http' })], base()));
    expect(err.code).toBe('E_SOURCE');
    expect(err.message).toBe('job "daily", source "crm" (http): boom');
    expect(err.location).toEqual({ file: '/etc/jobs.config.yaml', line: 12, column: 7, path: 'jobs[0].source' });
    expect(err.hint).toMatch(/optional: true/);
  });

  it('keeps the location and hint a SourceError carries (bad data in a file)', async () => {
    const { def } = scripted(() => {
      throw new SourceError('sales.csv:5: expected 4 fields', { location: { file: '/data/sales.csv', line: 5 }, hint: 'Quote it.' });
    });
    const err = await sourceError(collectSources([spec(def, {})], base()));
    expect(err.message).toBe('job "daily", source (scripted): sales.csv:5: expected 4 fields');
    expect(err.location).toEqual({ file: '/data/sales.csv', line: 5 });
    expect(err.hint).toBe('Quote it.');
  });

  it('retries transient failures only, up to `retries`', async () => {
    const flaky = scripted((n) => {
      if (n < 3) throw new SourceError('HTTP 503', { transient: true });
      return { ok: n };
    });
    expect((await collectSources([spec(flaky.def, {}, { retries: 2 })], base(), noDelay)).metrics).toEqual({ ok: 3 });
    expect(flaky.attempts()).toBe(3);

    const stillFlaky = scripted(() => {
      throw new SourceError('HTTP 502', { transient: true });
    });
    const err = await sourceError(collectSources([spec(stillFlaky.def, {}, { retries: 1 })], base(), noDelay));
    expect(err.message).toBe('job "daily", source (scripted): HTTP 502 (after 2 attempts)');
    expect(stillFlaky.attempts()).toBe(2);

    const permanent = scripted(() => {
      throw new SourceError('HTTP 404');
    });
    await sourceError(collectSources([spec(permanent.def, {}, { retries: 5 })], base(), noDelay));
    expect(permanent.attempts()).toBe(1);

    const network = scripted((n) => {
      if (n === 1) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
      return 'ok';
    });
    expect((await collectSources([spec(network.def, {}, { retries: 1 })], base(), noDelay)).metrics).toBe('ok');
  });

  it('times out a source that ignores its signal, and aborts the signal for one that listens', async () => {
    const hang = scripted(() => new Promise(() => undefined));
    const err = await sourceError(collectSources([spec(hang.def, {}, { timeoutMs: 50 })], base()));
    expect(err.code).toBe('E_SOURCE');
    expect(err.message).toBe('job "daily", source (scripted): timed out after 50ms');

    let sawAbort = false;
    const listens = scripted(
      (_n, ctx) =>
        new Promise((_r, reject) =>
          ctx.signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(new Error('aborted by signal'));
          }),
        ),
    );
    const err2 = await sourceError(collectSources([spec(listens.def, {}, { timeoutMs: 30, retries: 1 })], base(), noDelay));
    expect(sawAbort).toBe(true);
    // Timeouts are transient: the retry ran and timed out too.
    expect(err2.message).toBe('job "daily", source (scripted): timed out after 30ms (after 2 attempts)');
    expect(listens.attempts()).toBe(2);
  });

  it('an optional source that fails becomes null plus a note', async () => {
    const { def } = scripted(() => {
      throw new SourceError('HTTP 500 from https://crm.example/api');
    });
    const res = await collectSources(
      [spec(def, {}, { name: 'crm', type: 'http', optional: true }), spec(staticSource, { data: { n: 1 } }, { name: 'plan' })],
      base(),
    );
    expect(res.metrics).toEqual({ crm: null, plan: { n: 1 } });
    expect(res.notes).toEqual(['source "crm" (http) failed and was left out: HTTP 500 from https://crm.example/api']);

    const single = await collectSources([spec(def, {}, { optional: true })], base());
    expect(single.metrics).toBeNull();
    expect(single.notes).toHaveLength(1);
  });

  it('a required failure cancels the sibling sources', async () => {
    let siblingAborted = false;
    const sibling = scripted(
      (_n, ctx) =>
        new Promise(() => {
          ctx.signal.addEventListener('abort', () => (siblingAborted = true));
        }),
    );
    const failing = scripted(async () => {
      await new Promise((r) => setImmediate(r));
      throw new SourceError('bad query');
    });
    const err = await sourceError(
      collectSources([spec(sibling.def, {}, { name: 'slow' }), spec(failing.def, {}, { name: 'db', type: 'sql' })], base()),
    );
    expect(err.message).toBe('job "daily", source "db" (sql): bad query');
    expect(siblingAborted).toBe(true);
  });

  it('a cancelled job surfaces as the job signal reason or E_ABORTED, without retries', async () => {
    const job = new AbortController();
    const hang = scripted(() => {
      job.abort();
      return new Promise(() => undefined);
    });
    const err = await sourceError(collectSources([spec(hang.def, {}, { retries: 3 })], base({ signal: job.signal }), noDelay));
    expect(err.code).toBe('E_ABORTED');
    expect(hang.attempts()).toBe(1);

    const job2 = new AbortController();
    const reason = new DigestError('E_TIMEOUT', 'job "daily" exceeded its 1s timeout');
    const hang2 = scripted(() => {
      job2.abort(reason);
      return new Promise(() => undefined);
    });
    expect(await sourceError(collectSources([spec(hang2.def, {})], base({ signal: job2.signal })))).toBe(reason);
  });

  it('gives each source its part of previous metrics, a note function and its timeout', async () => {
    const seen: unknown[] = [];
    const probe = scripted((_n, ctx) => {
      seen.push({ name: ctx.sourceName, previous: ctx.previous, timeoutMs: ctx.timeoutMs });
      ctx.note('rows truncated');
      return 1;
    });
    const res = await collectSources([spec(probe.def, {}, { name: 'db', timeoutMs: 1234 })], base({ previous: { db: { count: 7 }, other: 1 } }));
    expect(seen).toEqual([{ name: 'db', previous: { count: 7 }, timeoutMs: 1234 }]);
    expect(res.notes).toEqual(['db: rows truncated']);

    await collectSources([spec(probe.def, {})], base({ previous: { count: 9 } }));
    expect(seen[1]).toEqual({ name: 'default', previous: { count: 9 }, timeoutMs: 30_000 });
  });

  it('normalises results to plain JSON (dates, bigints, undefined, NaN)', async () => {
    const { def } = scripted(() => ({
      at: new Date('2026-11-25T10:00:00Z'),
      big: 12n,
      huge: 2n ** 70n,
      gone: undefined,
      nan: NaN,
      list: [1, undefined],
      map: new Map([['a', 1]]),
    }));
    const res = await collectSources([spec(def, {})], base());
    expect(res.metrics).toEqual({
      at: '2026-11-25T10:00:00.000Z',
      big: 12,
      huge: '1180591620717411303424',
      nan: null,
      list: [1, null],
      map: { a: 1 },
    });
  });

  it('emits source:end for successes and failures', async () => {
    const events = new Emitter<DigestEvents>();
    const ends: DigestEvents['source:end'][] = [];
    events.on('source:end', (e) => ends.push(e));
    const { def } = scripted(() => {
      throw new SourceError('nope');
    });
    await collectSources(
      [spec(staticSource, { data: {} }, { name: 'plan' }), spec(def, {}, { name: 'crm', optional: true })],
      base(),
      { events },
    );
    expect(ends.map(({ durationMs: _d, ...e }) => e).sort((a, b) => a.source.localeCompare(b.source))).toEqual([
      { job: 'daily', source: 'crm', ok: false, error: 'nope' },
      { job: 'daily', source: 'plan', ok: true },
    ]);
    expect(ends.every((e) => typeof e.durationMs === 'number' && e.durationMs >= 0)).toBe(true);
  });
});

describe('collectSources: an empty period', () => {
  it('a source can report that its period has no data; the others still run', async () => {
    const quiet = defineSource({
      name: 'quiet',
      options: z.object({}).strict(),
      collect(ctx) {
        ctx.reportEmpty?.('no orders yesterday');
        return { orders: 0 };
      },
    });
    const res = await collectSources([{ ...spec(quiet, {}), name: 'shop' }, { ...spec(staticSource, { data: { n: 1 } }), name: 'other' }], base());
    expect(res.empty).toEqual(['shop: no orders yesterday']);
    expect(res.metrics).toEqual({ shop: { orders: 0 }, other: { n: 1 } });
  });

  it('leaves no listener on the job signal once the sources are done, and a job abort still reaches a running source', async () => {
    // A daemon's run signal outlives its sources: what they hung on it must be gone when they return.
    const job = new AbortController();
    const ok = await collectSources([spec(staticSource, { data: { n: 1 } }), { ...spec(staticSource, { data: { n: 2 } }), name: 'b' }].map((s, i) => ({ ...s, name: s.name ?? `s${i}` })), base({ signal: job.signal }));
    expect(ok.metrics).toEqual({ s0: { n: 1 }, b: { n: 2 } });
    expect(getEventListeners(job.signal, 'abort')).toHaveLength(0);

    const failing = scripted((attempt) => {
      if (attempt < 2) throw new SourceError('flaky', { transient: true });
      return { attempt };
    });
    expect((await collectSources([spec(failing.def, {}, { retries: 2 })], base({ signal: job.signal }), noDelay)).metrics).toEqual({ attempt: 2 });
    expect(getEventListeners(job.signal, 'abort')).toHaveLength(0);

    let sawAbort = false;
    const hang = scripted(
      (_attempt, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(new Error('aborted by signal'));
          });
          job.abort(new DigestError('E_TIMEOUT', 'job over its timeout'));
        }),
    );
    const err = await sourceError(collectSources([spec(hang.def, {})], base({ signal: job.signal })));
    expect(sawAbort).toBe(true);
    expect(err.code).toBe('E_TIMEOUT');
    expect(getEventListeners(job.signal, 'abort')).toHaveLength(0);
  });
});
