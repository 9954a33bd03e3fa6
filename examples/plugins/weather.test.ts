import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { SourceError, describeSourceOptions, resolveSource } from '../../src/sources/index.js';

const examplesDir = fileURLToPath(new URL('..', import.meta.url));
let server: Server;
let baseUrl: string;
let lastQuery: URLSearchParams | undefined;

beforeAll(async () => {
  // Answers like https://api.open-meteo.com/v1/forecast does (trimmed).
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    lastQuery = url.searchParams;
    if (url.searchParams.get('latitude') === '0') {
      res.writeHead(502).end('bad gateway');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        timezone: url.searchParams.get('timezone'),
        daily_units: { temperature_2m_min: '°C', temperature_2m_max: '°C', precipitation_sum: 'mm' },
        daily: { time: ['2026-11-26'], temperature_2m_min: [-7.4], temperature_2m_max: [-1.6], precipitation_sum: [1.2] },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

function ctx(options: unknown) {
  return {
    job: { name: 'morning', timezone: 'Europe/Moscow', locale: 'ru' },
    sourceName: 'weather',
    options,
    period: { start: new Date(), end: new Date(), startIso: '', endIso: '', timezone: 'Europe/Moscow' },
    now: new Date(),
    previous: undefined,
    signal: new AbortController().signal,
    logger: silentLogger,
    configDir: examplesDir,
    http: undefined as never,
    pachca: () => {
      throw new Error('unused');
    },
  };
}

describe('examples/plugins/weather.js', () => {
  it('loads as a plugin relative to the config directory and documents its options', async () => {
    const def = await resolveSource('./plugins/weather.js', examplesDir);
    expect(def.name).toBe('weather');
    expect(describeSourceOptions(def).map((o) => [o.name, o.type, o.required])).toEqual([
      ['city', 'string', true],
      ['latitude', 'number', true],
      ['longitude', 'number', true],
      ['base_url', 'string', false],
    ]);
    expect(def.options.safeParse({ city: 'Москва', latitude: 55.75, longitude: 37.62, units: 'c' }).success).toBe(false);
  });

  it('collects today\'s forecast', async () => {
    const def = await resolveSource('./plugins/weather.js', examplesDir);
    const options = def.options.parse({ city: 'Москва', latitude: 55.75, longitude: 37.62, base_url: baseUrl });
    expect(await def.collect(ctx(options) as never)).toEqual({
      city: 'Москва',
      date: '2026-11-26',
      min: -7,
      max: -2,
      precipitation: 1.2,
      summary: 'Москва: от -7 до -2 °C, небольшие осадки',
    });
    expect(lastQuery?.get('timezone')).toBe('Europe/Moscow');
  });

  it('marks 5xx as transient so `retries` apply', async () => {
    const def = await resolveSource('./plugins/weather.js', examplesDir);
    const options = def.options.parse({ city: 'Нигде', latitude: 0, longitude: 0, base_url: baseUrl });
    const err = await Promise.resolve(def.collect(ctx(options) as never)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).transient).toBe(true);
    expect((err as SourceError).message).toBe('Open-Meteo answered HTTP 502');
  });
});
