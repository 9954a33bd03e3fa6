import { afterEach, describe, expect, it } from 'vitest';
import { Emitter, type DigestEvents } from '../../src/events.js';
import { attachLogging, createLogger, formatPrettyLine } from '../../src/observability/log.js';
import { clearSecrets, registerSecret, scrubSecrets } from '../../src/observability/secrets.js';
import { DigestError } from '../../src/errors.js';

function capture(isTTY = false) {
  const chunks: string[] = [];
  return {
    stream: { write: (s: string) => void chunks.push(s), isTTY },
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, any>),
  };
}

const TOKEN = 'pk_live_9f8e7d6c5b4a39281706';
const DB_PASSWORD = 's3cr"et/pa ss';
const slot = new Date('2026-11-24T06:00:00.000Z');

afterEach(() => clearSecrets());

describe('createLogger (json)', () => {
  it('a child writes its bindings as given at child() time; nested children add theirs; levels still apply', () => {
    const out = capture();
    const log = createLogger({ level: 'info', format: 'json', stream: out.stream });
    const bindings: Record<string, unknown> = { job: 'daily', slot: slot.toISOString() };
    const run = log.child(bindings);
    bindings.job = 'changed later';
    run.debug({ n: 0 }, 'below the level');
    const source = run.child({ source: 'shop' });
    source.info({ n: 1 }, 'source line');
    run.warn({ n: 2 }, 'run line');
    const [a, b, ...rest] = out.lines();
    expect(rest).toHaveLength(0);
    expect(a).toMatchObject({ level: 'info', msg: 'source line', job: 'daily', slot: slot.toISOString(), source: 'shop', n: 1 });
    expect(b).toMatchObject({ level: 'warn', msg: 'run line', job: 'daily', n: 2 });
    expect(b).not.toHaveProperty('source');
  });

  it('secrets in child bindings are masked like any other field', () => {
    registerSecret(TOKEN);
    const out = capture();
    createLogger({ format: 'json', stream: out.stream }).child({ token: TOKEN, headers: { authorization: `Bearer ${TOKEN}` } }).info({}, 'x');
    expect(out.text()).not.toContain(TOKEN);
  });

  it('writes one JSON object per line with level label, time, msg and fields', () => {
    const out = capture();
    const log = createLogger({ level: 'info', format: 'json', stream: out.stream });
    log.info({ job: 'daily-sales', n: 3 }, 'hello');
    log.debug({ job: 'x' }, 'hidden at info');
    log.child({ job: 'weekly' }).warn({ status: 'failed' }, 'child line');
    const [a, b, ...rest] = out.lines();
    expect(rest).toHaveLength(0);
    expect(a).toMatchObject({ level: 'info', msg: 'hello', job: 'daily-sales', n: 3 });
    expect(new Date(a!.time).toISOString()).toBe(a!.time);
    expect(b).toMatchObject({ level: 'warn', msg: 'child line', job: 'weekly', status: 'failed' });
  });

  it('auto format is JSON on a non-TTY stream and pretty on a TTY', () => {
    const plain = capture(false);
    createLogger({ format: 'auto', stream: plain.stream }).info({ job: 'j' }, 'm');
    expect(() => plain.lines()).not.toThrow();
    const tty = capture(true);
    createLogger({ format: 'auto', stream: tty.stream, color: false }).info({ job: 'j' }, 'm');
    expect(tty.text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}m job=j\n$/);
  });

  it('rejects an unknown level with E_USAGE', () => {
    try {
      createLogger({ level: 'verbose' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DigestError);
      expect((e as DigestError).code).toBe('E_USAGE');
      expect((e as DigestError).hint).toContain('debug');
    }
  });
});

describe('pretty format', () => {
  it('shows time, level, msg, key fields first and duration in readable units', () => {
    const line = JSON.stringify({
      level: 'info',
      time: '2026-11-24T06:00:01.234Z',
      pid: 1,
      msg: 'run succeeded',
      attempts: 1,
      status: 'succeeded',
      job: 'daily-sales',
      slot: '2026-11-24T06:00:00.000Z',
      durationMs: 1234,
    });
    const text = formatPrettyLine(line, { color: false });
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}run succeeded job=daily-sales slot=2026-11-24T06:00:00.000Z status=succeeded duration=1\.2s attempts=1\n$/);
    expect(text).not.toContain('pid');
  });

  it('prints error code/message/hint and the stack on indented lines; non-JSON passes through', () => {
    const line = JSON.stringify({
      level: 'error',
      time: Date.now(),
      msg: 'boom',
      error: { code: 'E_SOURCE', message: 'db down', hint: 'check it', stack: 'Error: db down\n    at x' },
    });
    const text = formatPrettyLine(line, { color: false });
    expect(text).toContain('ERROR boom error.code=E_SOURCE error.message="db down" error.hint="check it"');
    expect(text).toContain('\n    Error: db down\n');
    expect(formatPrettyLine('not json\n')).toBe('not json\n');
  });

  it('colours only when asked', () => {
    const line = JSON.stringify({ level: 'warn', time: Date.now(), msg: 'm' });
    expect(formatPrettyLine(line, { color: true })).toContain('\x1b[33m');
    expect(formatPrettyLine(line, { color: false })).not.toContain('\x1b[');
  });
});

describe('secrets never reach the output', () => {
  const leakyPayloads = (log: ReturnType<typeof createLogger>) => {
    log.error({ error: { code: 'E_DELIVERY', message: `401 for token ${TOKEN}` } }, `request with ${TOKEN} failed`);
    log.info({ headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } }, 'req');
    log.info({ request: { options: { headers: { Authorization: `Bearer ${TOKEN}` } } } }, 'nested');
    log.info({ deep: { a: { b: { c: { d: { token: 'unregistered-token-value' } } } } } }, 'deep key');
    log.info({ list: [{ password: 'hunter2hunter2' }, { url: `postgres://app:${encodeURIComponent(DB_PASSWORD)}@db/x` }] }, 'array');
    log.error({ err: new Error(`connect failed with ${DB_PASSWORD}`) }, 'err object');
    log.info({}, 'free text: Authorization: Bearer unregisteredAbc123');
    log.child({ token: TOKEN, conn: `password=${DB_PASSWORD}` }).info({ job: 'j' }, 'child bindings');
  };

  for (const format of ['json', 'pretty'] as const) {
    it(`${format}: registered secrets, Authorization headers and secret-named keys are masked`, () => {
      registerSecret(TOKEN);
      registerSecret(DB_PASSWORD);
      const out = capture();
      const log = createLogger({ format, stream: out.stream, color: false });
      leakyPayloads(log);
      const text = out.text();
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(DB_PASSWORD);
      expect(text).not.toContain(JSON.stringify(DB_PASSWORD).slice(1, -1));
      expect(text).not.toContain(encodeURIComponent(DB_PASSWORD));
      expect(text).not.toContain('unregistered-token-value');
      expect(text).not.toContain('hunter2hunter2');
      expect(text).not.toContain('unregisteredAbc123');
      expect(text).toContain('[REDACTED]');
      // The rest of the line survives.
      expect(text).toContain('application/json');
      expect(text).toContain('child bindings');
    });
  }

  it('events carrying the token in error texts are scrubbed', () => {
    registerSecret(TOKEN);
    const out = capture();
    const events = new Emitter<DigestEvents>();
    attachLogging(events, createLogger({ format: 'json', stream: out.stream }));
    events.emit('run:end', {
      job: 'j', slot, status: 'failed', durationMs: 5, attempts: 1, messageIds: [],
      error: { code: 'E_DELIVERY', message: `Pachca rejected ${TOKEN}`, hint: `check PACHCA_TOKEN=${TOKEN}` },
    });
    events.emit('config:reload-failed', { file: 'x.yaml', error: `bad token ${TOKEN}` });
    expect(out.text()).not.toContain(TOKEN);
    expect(out.lines()).toHaveLength(2);
  });

  it('ignores short values and keeps ordinary text', () => {
    registerSecret('ab');
    registerSecret(undefined);
    registerSecret('');
    expect(scrubSecrets('ab cd')).toBe('ab cd');
    registerSecret('abcd');
    registerSecret('abcdef');
    expect(scrubSecrets('x abcdef y abcd')).toBe('x [REDACTED] y [REDACTED]');
  });
});

describe('attachLogging', () => {
  it('logs run:end with structured fields at info or error', () => {
    const out = capture();
    const events = new Emitter<DigestEvents>();
    const off = attachLogging(events, createLogger({ format: 'json', level: 'debug', stream: out.stream }));
    events.emit('run:end', { job: 'daily-sales', slot, status: 'succeeded', durationMs: 812, attempts: 1, messageIds: [11, 12] });
    events.emit('run:end', {
      job: 'daily-sales', slot, status: 'failed', durationMs: 30, attempts: 3, messageIds: [],
      error: { code: 'E_SOURCE', message: 'db down', hint: 'check DB_URL' },
    });
    events.emit('pachca:rate-limited', { method: 'POST', path: '/messages', bucket: 'messageWrite', retryAfterMs: 2000 });
    events.emit('pachca:breaker', { state: 'open' });
    events.emit('scheduler:next', { job: 'daily-sales', at: null });
    off();
    events.emit('run:start', { job: 'after-off', slot, attempt: 1 });
    const [ok, failed, limited, breaker, next, ...rest] = out.lines();
    expect(rest).toEqual([]);
    expect(ok).toMatchObject({ level: 'info', job: 'daily-sales', slot: slot.toISOString(), status: 'succeeded', durationMs: 812, attempts: 1, messageIds: [11, 12] });
    expect(failed).toMatchObject({ level: 'error', status: 'failed', attempts: 3, error: { code: 'E_SOURCE', message: 'db down', hint: 'check DB_URL' } });
    expect(limited).toMatchObject({ level: 'warn', bucket: 'messageWrite', retryAfterMs: 2000 });
    expect(breaker).toMatchObject({ level: 'warn', state: 'open' });
    expect(next).toMatchObject({ level: 'debug', job: 'daily-sales', next: null });
  });

  it('subscribes to every DigestEvents event', () => {
    const out = capture();
    const events = new Emitter<DigestEvents>();
    attachLogging(events, createLogger({ format: 'json', level: 'trace', stream: out.stream }));
    const all: { [K in keyof DigestEvents]: DigestEvents[K] } = {
      'run:start': { job: 'j', slot, attempt: 1 },
      'run:end': { job: 'j', slot, status: 'skipped', durationMs: 1, attempts: 1, messageIds: [], reason: 'empty' },
      'run:claimed-elsewhere': { job: 'j', slot, status: 'running' },
      'run:progress': { job: 'j', slot, sent: 5, total: 10, ratePerSecond: 2.5, etaSeconds: 2, done: false },
      'run:helped': { job: 'j', slot, owner: 'h:1:a', chunks: 2, messages: 200 },
      'source:end': { job: 'j', source: 's', durationMs: 1, ok: false, error: 'x' },
      'pachca:request': { method: 'GET', path: '/chats', status: 200, durationMs: 3, bucket: 'other', attempt: 1 },
      'pachca:rate-limited': { method: 'POST', path: '/messages', bucket: 'b', retryAfterMs: 1 },
      'pachca:retry': { method: 'POST', path: '/messages', attempt: 2, delayMs: 500, reason: '503' },
      'pachca:paused': { bucket: 'b', untilMs: Date.parse('2026-01-01T00:00:00Z') },
      'pachca:limiter-wait': { bucket: 'b', waitedMs: 250 },
      'pachca:breaker': { state: 'closed' },
      'pachca:deduplicated': { chatId: 1, messageId: 2 },
      'monitor:transition': { job: 'j', action: 'post', messageId: 3, phase: 'firing' },
      'unfurl:preview': { messageId: 3, url: 'https://bi.example.ru/x', job: 'j', ok: false, reason: 'render failed' },
      'scheduler:tick': { at: slot },
      'scheduler:next': { job: 'j', at: slot },
      'config:reloaded': { file: 'f', jobs: 2 },
      'config:reload-failed': { file: 'f', error: 'e' },
      'interaction:action': { job: 'j', action: 'refresh', messageId: 1, userId: 2 },
      'interaction:event': { type: 'button_click', via: 'history', outcome: 'handled' },
    };
    for (const [name, payload] of Object.entries(all)) events.emit(name as keyof DigestEvents, payload as never);
    const lines = out.lines();
    expect(lines).toHaveLength(Object.keys(all).length);
    expect(lines.every((l) => typeof l.msg === 'string' && l.msg.length > 0)).toBe(true);
  });
});

describe('scrubSecrets', () => {
  it('masks Bearer credentials in free text but keeps prose', () => {
    expect(scrubSecrets('header Authorization: Bearer abcdEFGH1234.xyz sent')).toBe('header Authorization: Bearer [REDACTED] sent');
    expect(scrubSecrets('missing Bearer token')).toBe('missing Bearer token');
  });
});
