import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { CLIENT_DEFAULTS } from '../../src/pachca/defaults.js';
import { DigestError } from '../../src/errors.js';
import { load, loadError, MINIMAL, project } from './helpers.js';
import type { UrlButton } from '../../src/config/types.js';

describe('loadConfig: valid configs', () => {
  test('minimal config gets every default', async () => {
    const c = await load(MINIMAL);
    expect(c.version).toBe(1);
    expect(c.pachca.baseUrl).toBe(CLIENT_DEFAULTS.baseUrl);
    expect(c.pachca.baseUrlExplicit).toBe(false);
    expect(c.pachca.token).toBe('');
    expect(c.pachca.rateLimits).toEqual(CLIENT_DEFAULTS.rateLimits);
    expect(c.pachca.retry).toEqual(CLIENT_DEFAULTS.retry);
    expect(c.pachca.timeouts).toEqual(CLIENT_DEFAULTS.timeouts);
    expect(c.pachca.maxMessageBytes).toBe(CLIENT_DEFAULTS.maxMessageBytes);
    expect(c.state.url).toBe(`sqlite:${join(c.dir, '.pachca-digest/state.db')}`);
    expect(c.state.leaseMs).toBe(600_000);
    expect(c.state.retention).toEqual({ runs: 500, days: 90 });
    expect(c.templatesDir).toBe(join(c.dir, 'templates'));
    const [job] = c.jobs;
    expect(job).toMatchObject({
      name: 'daily',
      schedule: '0 9 * * 1-5',
      timezone: 'Europe/Moscow',
      locale: 'ru-RU',
      enabled: true,
      namedSources: false,
      onEmpty: 'skip',
      period: 'slot',
      catchUp: 'latest',
      startingDeadlineMs: 7_200_000,
      concurrency: 'forbid',
      timeoutMs: 600_000,
      retries: { count: 0, backoffMs: 60_000 },
      delivery: 'new',
      splitToThread: false,
      position: { file: 'jobs.config.yaml', line: 3, column: 5, path: 'jobs[0]' },
    });
    expect(job!.sources).toHaveLength(1);
    expect(job!.sources[0]).toMatchObject({ name: undefined, type: 'static', options: { data: { count: 3 } }, optional: false, timeoutMs: 30_000, retries: 1 });
    expect(job!.sources[0]!.definition.name).toBe('static');
    expect(job!.targets).toEqual([expect.objectContaining({ kind: 'chat', id: 123, buttons: [] })]);
    expect(job!.template.render({ metrics: { count: 7 } }, { locale: 'ru-RU', timezone: 'Europe/Moscow' })).toContain('7');
    expect(c.warnings).toEqual([]);
  });

  test('defaults merge under job values; job values win', async () => {
    const c = await load(`version: 1
defaults:
  timezone: Asia/Yekaterinburg
  locale: en-US
  catch_up: all
  starting_deadline: 30m
  concurrency: replace
  timeout: 90
  retries: { count: 2, backoff: 10s }
  period: previous_day
  target:
    display_name: Дайджест
    link_preview: false
jobs:
  - name: a
    schedule: "@daily"
    source: { type: static, data: {} }
    template: daily.hbs
    target: { chat_id: 1 }
  - name: b
    schedule: "0 0 9 * * *"
    timezone: UTC
    period: last_24h
    retries: { count: 5 }
    timeout: 1h30m
    source: { type: static, data: {} }
    template: daily.hbs
    targets:
      - { chat_id: "42", display_name: Отчёт }
      - { user_id: 7, link_preview: true }
`);
    const [a, b] = c.jobs;
    expect(a).toMatchObject({ timezone: 'Asia/Yekaterinburg', locale: 'en-US', catchUp: 'all', startingDeadlineMs: 1_800_000, concurrency: 'replace', timeoutMs: 90_000, retries: { count: 2, backoffMs: 10_000 }, period: 'previous_day' });
    expect(a!.targets[0]).toMatchObject({ kind: 'chat', id: 1, displayName: 'Дайджест', linkPreview: false });
    expect(b).toMatchObject({ timezone: 'UTC', locale: 'en-US', period: 'last_24h', retries: { count: 5, backoffMs: 10_000 }, timeoutMs: 5_400_000 });
    expect(b!.targets[0]).toMatchObject({ kind: 'chat', id: 42, displayName: 'Отчёт', linkPreview: false });
    expect(b!.targets[1]).toMatchObject({ kind: 'user', id: 7, displayName: 'Дайджест', linkPreview: true });
  });

  test('named sources, fan-out target template, buttons as one row and as rows, alerts', async () => {
    const c = await load(`version: 1
alerts: { chat_id: 99 }
heartbeat_url: https://hc.example.com/ping
jobs:
  - name: teams
    schedule: "0 9 * * 1"
    sources:
      teams: { type: static, data: { list: [] } }
      extra: { type: static, data: {}, optional: true, timeout: 5s, retries: 0 }
    for_each: metrics.teams.list
    template: daily.hbs
    target:
      chat_id: "{{item.chat_id}}"
      buttons:
        - { text: "Открыть {{item.name}}", url: "https://example.com/{{item.id}}" }
        - { text: Все, url: "https://example.com" }
    alerts: { user_id: 5, on: [failure], after: 3 }
  - name: rows
    schedule: "@hourly"
    source: { type: static, data: {} }
    template: daily.hbs
    target:
      thread_id: 77
      buttons:
        - [{ text: a, url: "https://a.example" }, { text: b, url: "https://b.example" }]
        - [{ text: c, url: "https://c.example" }]
`);
    const [teams, rows] = c.jobs;
    expect(c.alerts).toEqual({ target: { kind: 'chat', id: 99 }, on: ['failure', 'recovery'], after: 1 });
    expect(c.heartbeatUrl).toBe('https://hc.example.com/ping');
    expect(teams!.namedSources).toBe(true);
    expect(teams!.sources.map((s) => [s.name, s.optional, s.timeoutMs, s.retries])).toEqual([['teams', false, 30_000, 1], ['extra', true, 5_000, 0]]);
    expect(teams!.forEach).toBe('metrics.teams.list');
    expect(teams!.alerts).toEqual({ target: { kind: 'user', id: 5 }, on: ['failure'], after: 3 });
    const target = teams!.targets[0]!;
    expect(typeof target.id).toBe('object');
    const opts = { locale: 'ru-RU', timezone: 'UTC' };
    const ctx = { item: { chat_id: 555, name: 'A&B', id: 9 } };
    expect((target.id as { render: (c: object, o: object) => string }).render(ctx, opts)).toBe('555');
    expect(target.buttons).toHaveLength(1);
    expect(target.buttons[0]!.map((b) => b.text.render(ctx, opts))).toEqual(['Открыть A&B', 'Все']);
    expect((target.buttons[0]![0]! as UrlButton).url.render(ctx, opts)).toBe('https://example.com/9');
    expect(rows!.targets[0]!.kind).toBe('thread');
    expect(rows!.targets[0]!.buttons.map((r) => r.length)).toEqual([2, 1]);
  });

  test('interpolation: ${VAR}, ${VAR:-default}, $${ escape, retyping of plain scalars', async () => {
    const c = await load(`version: 1
pachca:
  base_url: \${API:-http://127.0.0.1:9999/api}
jobs:
  - name: \${JOB_NAME:-fallback}
    description: "cost $\${price} for \${WHO}"
    schedule: "\${CRON}"
    source: { type: static, data: { note: "\${EMPTY:-was empty}" } }
    template: daily.hbs
    target:
      chat_id: \${CHAT}
      link_preview: \${PREVIEW:-false}
`, { env: { CRON: '*/5 * * * *', WHO: 'всех', CHAT: '321', EMPTY: '' } });
    const [job] = c.jobs;
    expect(c.pachca.baseUrl).toBe('http://127.0.0.1:9999/api');
    expect(c.pachca.baseUrlExplicit).toBe(true);
    expect(job!.name).toBe('fallback');
    expect(job!.description).toBe('cost ${price} for всех');
    expect(job!.schedule).toBe('*/5 * * * *');
    expect(job!.sources[0]!.options).toEqual({ data: { note: 'was empty' } });
    expect(job!.targets[0]).toMatchObject({ kind: 'chat', id: 321, linkPreview: false });
  });

  test('.env beside the config and in cwd are read; the real env wins; process.env untouched', async () => {
    const dir = project(`version: 1
pachca:
  token: \${BOT_TOKEN}
jobs:
  - name: \${JOB}
    schedule: "\${CRON}"
    source: { type: static, data: {} }
    template: daily.hbs
    target: { chat_id: \${CHAT} }
`.replace('{ chat_id: ${CHAT} }', '\n      chat_id: ${CHAT}'), {
      'conf/.gitkeep': '',
      '.env': 'BOT_TOKEN=from-cwd-env\nCRON=0 8 * * *\nJOB=cwd-job\n',
    });
    // The config lives in conf/ with its own .env; cwd is the project root.
    writeFileSync(join(dir, 'conf/jobs.config.yaml'), (await import('node:fs')).readFileSync(join(dir, 'jobs.config.yaml')));
    (await import('node:fs')).mkdirSync(join(dir, 'conf/templates'));
    writeFileSync(join(dir, 'conf/templates/daily.hbs'), 'x');
    writeFileSync(join(dir, 'conf/.env'), 'JOB=conf-job\nCHAT=11\n');
    const before = { ...process.env };
    const c = await loadConfig({ cwd: dir, file: 'conf/jobs.config.yaml', env: { CHAT: '22' } });
    expect(process.env).toEqual(before);
    expect(c.pachca.token).toBe('from-cwd-env');
    expect(c.jobs[0]!.schedule).toBe('0 8 * * *');
    expect(c.jobs[0]!.name).toBe('conf-job');
    expect(c.jobs[0]!.targets[0]!.id).toBe(22);
    expect(c.file).toBe(join(dir, 'conf/jobs.config.yaml'));
    expect(c.templatesDir).toBe(join(dir, 'conf/templates'));
  });

  test('environment overrides: PACHCA_TOKEN, PACHCA_API_URL, PACHCA_DIGEST_STATE, PACHCA_DIGEST_CONFIG', async () => {
    const dir = project(MINIMAL.replace('version: 1\n', 'version: 1\npachca:\n  token: file-token\n  base_url: https://pachca.example/api\nstate:\n  url: sqlite:db/state.db\n'));
    writeFileSync(join(dir, 'other.yaml'), MINIMAL.replace('name: daily', 'name: other'));
    const plain = await loadConfig({ cwd: dir, env: {} });
    expect(plain.pachca.token).toBe('file-token');
    expect(plain.pachca.baseUrl).toBe('https://pachca.example/api');
    expect(plain.pachca.baseUrlExplicit).toBe(true);
    expect(plain.state.url).toBe(`sqlite:${join(dir, 'db/state.db')}`);
    const env = { PACHCA_TOKEN: 'env-token', PACHCA_API_URL: 'http://127.0.0.1:1234/api/shared/v1', PACHCA_DIGEST_STATE: 'postgres://u:p@localhost:5432/digest' };
    const over = await loadConfig({ cwd: dir, env });
    expect(over.pachca.token).toBe('env-token');
    expect(over.pachca.baseUrl).toBe('http://127.0.0.1:1234/api/shared/v1');
    expect(over.state.url).toBe('postgres://u:p@localhost:5432/digest');
    const empty = await loadConfig({ cwd: dir, env: { PACHCA_TOKEN: '' } });
    expect(empty.pachca.token).toBe('file-token');
    const other = await loadConfig({ cwd: dir, env: { PACHCA_DIGEST_CONFIG: 'other.yaml' } });
    expect(other.jobs[0]!.name).toBe('other');
    const explicit = await loadConfig({ cwd: dir, file: 'jobs.config.yaml', env: { PACHCA_DIGEST_CONFIG: 'other.yaml' } });
    expect(explicit.jobs[0]!.name).toBe('daily');
  });

  test('markup Pachca does not render becomes a warning, not an error', async () => {
    const c = await load(MINIMAL, { files: { 'templates/daily.hbs': '# Заголовок\n- пункт\n{{metrics.count}}\n' } });
    expect(c.warnings.length).toBe(2);
    expect(c.warnings[0]).toMatch(/templates\/daily\.hbs:1: headings/);
    expect(c.warnings[1]).toMatch(/daily\.hbs:2: .*list/);
  });
});

describe('loadConfig: errors', () => {
  test('missing config file names the path and how to point at one', async () => {
    const dir = project(MINIMAL);
    const err = (await loadConfig({ cwd: dir, file: 'nope.yaml', env: {} }).catch((e: unknown) => e)) as DigestError;
    expect(err).toBeInstanceOf(DigestError);
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toMatch(/nope\.yaml: config file not found/);
    expect(err.hint).toMatch(/--config PATH.*PACHCA_DIGEST_CONFIG/);
  });

  test('secret values never appear in error messages', async () => {
    const secret = 'xoxb-very-secret-123';
    const err = await loadError(`version: 1
pachca:
  token: \${PACHCA_TOKEN}
jobs:
  - name: daily
    schedule: "\${API_KEY}"
    source: { type: static, data: {} }
    template: daily.hbs
    target:
      chat_id: 1
    locale: \${DB_PASSWORD}
    timeout: "\${SECRET_TIMEOUT}"
`, { env: { PACHCA_TOKEN: secret, API_KEY: 'key-abc-999', DB_PASSWORD: 'pw-zzz-777', SECRET_TIMEOUT: 'tmo-sekrit' } });
    const text = JSON.stringify(err.toJSON()) + err.format();
    expect(err.details.length).toBe(3);
    for (const s of [secret, 'key-abc-999', 'pw-zzz-777', 'tmo-sekrit']) expect(text).not.toContain(s);
  });

  test('a postgres password in state.url is redacted', async () => {
    const err = await loadError(MINIMAL.replace('version: 1\n', 'version: 1\nstate:\n  url: "postgresx://user:hunter2@db/x"\n'));
    expect(err.format()).not.toContain('hunter2');
    expect(err.details[0]!.location).toMatchObject({ line: 3, path: 'state.url' });
  });

  test('job errors do not hide each other: template errors are reported for every job', async () => {
    const err = await loadError(`version: 1
jobs:
  - name: one
    schedule: "@daily"
    bogus: 1
    source: { type: static, data: {} }
    template: nope1.hbs
    target: { chat_id: 1 }
  - name: two
    schedule: "@daily"
    source: { type: statik }
    template: nope2.hbs
    target: { chat_id: 1 }
`);
    const messages = err.details.map((d) => d.message).join('\n');
    expect(messages).toMatch(/unknown key "bogus"/);
    expect(messages).toMatch(/nope1\.hbs/);
    expect(messages).toMatch(/nope2\.hbs/);
    expect(messages).toMatch(/unknown source type "statik"/);
  });
});

describe('the shipped example', () => {
  const example = resolve(import.meta.dirname, '../../jobs.config.yaml');
  test.skipIf(!existsSync(example))('jobs.config.yaml at the repo root loads', async () => {
    const c = await loadConfig({ file: example, cwd: resolve(import.meta.dirname, '../..'), env: {} });
    expect(c.jobs.length).toBeGreaterThan(0);
  });
});
