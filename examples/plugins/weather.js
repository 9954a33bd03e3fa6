/**
 * Example custom source: today's weather from Open-Meteo (free, no API key).
 *
 *   sources:
 *     weather:
 *       type: ./plugins/weather.js      # relative to jobs.config.yaml
 *       city: Москва
 *       latitude: 55.75
 *       longitude: 37.62
 *
 * → metrics.weather = { city, date, min, max, precipitation, summary }
 *
 * The default export is a factory: pachca-digest calls it with { z, defineSource, SourceError },
 * so the plugin imports nothing and works the same inside this repository, next to a global
 * `npm i -g pachca-digest`, and in the Docker image. (Exporting `defineSource({...})` directly
 * also works when `pachca-digest` and `zod` resolve from the plugin's directory.)
 *
 * Options are a strict zod object: typos in the config are reported with their line.
 * collect(ctx) gets ctx.options, ctx.period, ctx.job, ctx.signal (honour it: it carries the
 * source timeout) and returns plain JSON.
 */
export default ({ z, defineSource, SourceError }) =>
  defineSource({
    name: 'weather',
    description: 'Погода на сегодня (Open-Meteo).',
    options: z
      .object({
        city: z.string().min(1).describe('Название города для шаблона'),
        latitude: z.number().min(-90).max(90).describe('Широта'),
        longitude: z.number().min(-180).max(180).describe('Долгота'),
        base_url: z.string().url().default('https://api.open-meteo.com').describe('Адрес API (для тестов и зеркал)'),
      })
      .strict(),
    async collect(ctx) {
      const { city, latitude, longitude, base_url: baseUrl } = ctx.options;
      const url = new URL('/v1/forecast', baseUrl);
      url.searchParams.set('latitude', String(latitude));
      url.searchParams.set('longitude', String(longitude));
      url.searchParams.set('daily', 'temperature_2m_min,temperature_2m_max,precipitation_sum');
      url.searchParams.set('timezone', ctx.job.timezone);
      url.searchParams.set('forecast_days', '1');

      let res;
      try {
        res = await fetch(url, { signal: ctx.signal, headers: { accept: 'application/json' } });
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        throw new SourceError(`Open-Meteo is unreachable: ${err.message}`, { transient: true });
      }
      if (!res.ok) {
        throw new SourceError(`Open-Meteo answered HTTP ${res.status}`, { transient: res.status >= 500 });
      }
      const body = await res.json();
      const daily = body.daily ?? {};
      const min = daily.temperature_2m_min?.[0];
      const max = daily.temperature_2m_max?.[0];
      const precipitation = daily.precipitation_sum?.[0] ?? 0;
      if (typeof min !== 'number' || typeof max !== 'number') {
        throw new SourceError('Open-Meteo returned no daily forecast', { hint: 'Check latitude and longitude.' });
      }
      const sky = precipitation >= 5 ? 'сильные осадки' : precipitation > 0 ? 'небольшие осадки' : 'без осадков';
      return {
        city,
        date: daily.time?.[0] ?? null,
        min: Math.round(min),
        max: Math.round(max),
        precipitation,
        summary: `${city}: от ${Math.round(min)} до ${Math.round(max)} °C, ${sky}`,
      };
    },
  });
