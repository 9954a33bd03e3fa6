import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decideAlert,
  evaluateAlert,
  escapeMarkdown,
  formatAlert,
  nextAlertingFlag,
  pingHeartbeat,
  type AlertDecisionInput,
  type AlertKind,
} from '../../src/observability/alerts.js';
import type { Logger } from '../../src/observability/logger.js';

type Step = { status: AlertDecisionInput['status']; expect: AlertKind | null };

/** Drive the decision the way the pipeline does: the streak and the flag carried between runs. */
function simulate(steps: Step['status'][], after: number, on: AlertKind[] = ['failure', 'recovery']): Array<AlertKind | null> {
  let streak = 0;
  let alerting = false;
  return steps.map((status) => {
    streak = status === 'failed' ? streak + 1 : status === 'succeeded' ? 0 : streak;
    const input = { status, consecutiveFailures: status === 'failed' ? streak : 0, previouslyAlerting: alerting, after, on };
    const kind = decideAlert(input);
    alerting = nextAlertingFlag(input);
    return kind;
  });
}

describe('decideAlert', () => {
  it('after=1: fail, fail, fail, recover → failure once, then recovery once', () => {
    expect(simulate(['failed', 'failed', 'failed', 'succeeded', 'succeeded'], 1)).toEqual(['failure', null, null, 'recovery', null]);
  });

  it('after=3: alerts on the third failure only', () => {
    expect(simulate(['failed', 'failed', 'failed', 'failed', 'succeeded'], 3)).toEqual([null, null, 'failure', null, 'recovery']);
  });

  it('after=3: a streak shorter than `after` never alerts nor recovers', () => {
    expect(simulate(['failed', 'failed', 'succeeded', 'failed', 'succeeded'], 3)).toEqual([null, null, null, null, null]);
  });

  it('skipped runs are neutral: they neither alert nor clear the flag', () => {
    expect(simulate(['failed', 'skipped', 'failed', 'succeeded'], 1)).toEqual(['failure', null, null, 'recovery']);
  });

  it('respects `on`, and after < 1 counts as 1', () => {
    expect(simulate(['failed', 'succeeded'], 1, ['recovery'])).toEqual([null, 'recovery']);
    expect(simulate(['failed', 'succeeded'], 1, ['failure'])).toEqual(['failure', null]);
    expect(decideAlert({ status: 'failed', consecutiveFailures: 1, previouslyAlerting: false, after: 0, on: ['failure'] })).toBe('failure');
  });

  it('table of single decisions', () => {
    const rows: Array<[AlertDecisionInput, AlertKind | null]> = [
      [{ status: 'failed', consecutiveFailures: 1, previouslyAlerting: false, after: 1, on: ['failure', 'recovery'] }, 'failure'],
      [{ status: 'failed', consecutiveFailures: 2, previouslyAlerting: true, after: 1, on: ['failure', 'recovery'] }, null],
      [{ status: 'failed', consecutiveFailures: 2, previouslyAlerting: false, after: 3, on: ['failure', 'recovery'] }, null],
      [{ status: 'failed', consecutiveFailures: 3, previouslyAlerting: false, after: 3, on: ['failure', 'recovery'] }, 'failure'],
      [{ status: 'succeeded', consecutiveFailures: 0, previouslyAlerting: true, after: 3, on: ['failure', 'recovery'] }, 'recovery'],
      [{ status: 'succeeded', consecutiveFailures: 0, previouslyAlerting: false, after: 3, on: ['failure', 'recovery'] }, null],
    ];
    for (const [input, expected] of rows) expect(decideAlert(input), JSON.stringify(input)).toBe(expected);
  });
});

describe('formatAlert', () => {
  const slot = new Date('2026-11-24T06:00:00.000Z');

  it('failure: Russian text with job, slot in the job zone, code, message and hint', () => {
    const text = formatAlert('failure', {
      job: 'daily-sales',
      slot,
      error: 'connection refused',
      code: 'E_SOURCE',
      hint: 'check DB_URL',
      timezone: 'Europe/Moscow',
      locale: 'ru-RU',
      consecutiveFailures: 3,
    });
    expect(text.split('\n')[0]).toBe('🔴 Дайджест **daily-sales** не отправлен');
    expect(text).toContain('24 ноября 2026, 09:00 (Europe/Moscow)');
    expect(text).toContain('Ошибка: `E_SOURCE` — connection refused');
    expect(text).toContain('Что сделать: check DB\\_URL');
    expect(text).toContain('Неудачных запусков подряд: 3');
  });

  it('recovery text', () => {
    const text = formatAlert('recovery', { job: 'weekly', slot, timezone: 'UTC', locale: 'ru' });
    expect(text).toBe('🟢 Дайджест **weekly** снова работает\nУспешный запуск: 24 ноября 2026, 06:00 (UTC)');
  });

  it('accepts the error as an object', () => {
    const text = formatAlert('failure', { job: 'j', slot, error: { code: 'E_TIMEOUT', message: 'took too long', hint: 'raise timeout' }, timezone: 'UTC', locale: 'ru' });
    expect(text).toContain('`E_TIMEOUT` — took too long');
    expect(text).toContain('Что сделать: raise timeout');
  });

  it('escapes markdown and defuses mentions in job names and error texts', () => {
    const text = formatAlert('failure', {
      job: 'sales_*daily*',
      slot,
      error: 'bad [link](http://x) `code` ~~strike~~ \\ ping @all <@42> user@example.com\nsecond line',
      code: 'E_*weird*',
      hint: '**bold** @admin',
      timezone: 'UTC',
      locale: 'ru',
    });
    expect(text).toContain('**sales\\_\\*daily\\***');
    expect(text).toContain('bad \\[link\\](http://x) \\`code\\` \\~\\~strike\\~\\~ \\\\ ping ＠all <＠42> user＠example.com second line');
    expect(text).toContain('E\\_\\*weird\\*');
    expect(text).toContain('\\*\\*bold\\*\\* ＠admin');
    expect(text).not.toMatch(/@/);
    // Only the template's own bold survives unescaped.
    expect(text.match(/(?<!\\)\*\*/g)).toHaveLength(2);
  });

  it('cuts very long error texts', () => {
    const text = formatAlert('failure', { job: 'j', slot, error: 'x'.repeat(5000), timezone: 'UTC', locale: 'ru' });
    expect(text.length).toBeLessThan(800);
    expect(text).toContain('…');
  });

  it('escapeMarkdown leaves plain text alone', () => {
    expect(escapeMarkdown('Ежедневные продажи 2026-11-24 (итог)')).toBe('Ежедневные продажи 2026-11-24 (итог)');
  });
});

describe('pingHeartbeat (real local server)', () => {
  let server: Server;
  let base: string;
  const hits: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url?.startsWith('/ok')) res.end('OK');
      else if (req.url?.startsWith('/hang')) {
        /* never answers */
      } else {
        res.statusCode = 500;
        res.end('no');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  function recorder() {
    const lines: Array<{ level: string; obj: any; msg?: string }> = [];
    const make = (): Logger => ({
      debug: (obj, msg) => void lines.push({ level: 'debug', obj, msg }),
      info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
      error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
      child: () => make(),
    });
    return { logger: make(), lines };
  }

  it('GETs the URL and reports success', async () => {
    const { logger, lines } = recorder();
    expect(await pingHeartbeat(`${base}/ok/uuid-secret`, { logger })).toBe(true);
    expect(hits).toContain('/ok/uuid-secret');
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('logs, does not throw, on an error status, a timeout and a refused connection; never logs the path', async () => {
    const { logger, lines } = recorder();
    expect(await pingHeartbeat(`${base}/fail/uuid-secret`, { logger })).toBe(false);
    expect(await pingHeartbeat(`${base}/hang/uuid-secret`, { logger, timeoutMs: 200 })).toBe(false);
    expect(await pingHeartbeat('http://127.0.0.1:1/uuid-secret', { logger })).toBe(false);
    expect(await pingHeartbeat('not a url', { logger })).toBe(false);
    const warns = lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(4);
    expect(JSON.stringify(lines)).not.toContain('uuid-secret');
  });

  it('stops when the caller aborts', async () => {
    const ac = new AbortController();
    const p = pingHeartbeat(`${base}/hang/x`, { signal: ac.signal, timeoutMs: 30_000 });
    ac.abort();
    expect(await p).toBe(false);
  });
});

describe('evaluateAlert: every `on:` combination over one failure streak', () => {
  const ons: AlertKind[][] = [[], ['failure'], ['recovery'], ['failure', 'recovery'], ['recovery', 'failure']];
  it.each(ons.map((on) => [on.join(',') || '(none)', on] as const))('on: [%s]', (_label, on) => {
    let alerting = false;
    let streak = 0;
    const sent: Array<AlertKind | null> = [];
    for (const status of ['failed', 'failed', 'skipped', 'succeeded', 'succeeded', 'failed'] as const) {
      streak = status === 'failed' ? streak + 1 : status === 'succeeded' ? 0 : streak;
      const r = evaluateAlert({ status, consecutiveFailures: status === 'failed' ? streak : 0, previouslyAlerting: alerting, after: 2, on });
      sent.push(r.send);
      alerting = r.alerting;
    }
    const f = on.includes('failure') ? 'failure' : null;
    const rec = on.includes('recovery') ? 'recovery' : null;
    // The flag is the same whatever `on` says: only what is sent differs.
    expect(sent).toEqual([null, f, null, rec, null, null]);
    expect(alerting).toBe(false);
  });
});
