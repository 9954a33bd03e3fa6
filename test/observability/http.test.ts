import { afterEach, describe, expect, it } from 'vitest';
import { Emitter, type DigestEvents } from '../../src/events.js';
import { startHealthServer, type HealthServer } from '../../src/observability/http.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { clearSecrets, registerSecret } from '../../src/observability/secrets.js';
import { DigestError } from '../../src/errors.js';

let servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  clearSecrets();
});

async function start(opts: Parameters<typeof startHealthServer>[0]) {
  const s = await startHealthServer(opts);
  servers.push(s);
  return s;
}

async function get(url: string, method = 'GET') {
  const res = await fetch(url, { method });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) as any };
}

describe('startHealthServer (real HTTP on port 0)', () => {
  it('answers 200 or 503 as the checks say', async () => {
    const state = { live: true, ready: true };
    const s = await start({
      port: 0,
      host: '127.0.0.1',
      checks: {
        live: () => ({ ok: state.live, detail: { lastTickAgoMs: 100 } }),
        ready: async () => ({ ok: state.ready, detail: state.ready ? 'ok' : 'state store unreachable' }),
      },
    });
    expect(s.port).toBeGreaterThan(0);
    let r = await get(`${s.url}/healthz`);
    expect(r.status).toBe(200);
    expect(r.type).toContain('application/json');
    expect(r.json()).toEqual({ status: 'ok', detail: { lastTickAgoMs: 100 } });
    expect((await get(`${s.url}/readyz`)).status).toBe(200);

    state.live = false;
    state.ready = false;
    r = await get(`${s.url}/healthz`);
    expect(r.status).toBe(503);
    expect(r.json().status).toBe('fail');
    r = await get(`${s.url}/readyz?verbose=1`);
    expect(r.status).toBe(503);
    expect(r.json()).toEqual({ status: 'fail', detail: 'state store unreachable' });
  });

  it('turns throwing and hanging checks into 503 without leaking secrets', async () => {
    registerSecret('pg-password-123');
    const s = await start({
      port: 0,
      host: '127.0.0.1',
      checkTimeoutMs: 100,
      checks: {
        live: () => {
          throw new Error('scheduler stopped');
        },
        ready: () => new Promise(() => {}),
      },
    });
    let r = await get(`${s.url}/healthz`);
    expect(r.status).toBe(503);
    expect(r.json().detail).toBe('scheduler stopped');
    r = await get(`${s.url}/readyz`);
    expect(r.status).toBe(503);
    expect(r.json().detail).toContain('timed out');

    const s2 = await start({
      port: 0,
      host: '127.0.0.1',
      checks: { live: () => ({ ok: true }), ready: async () => { throw new Error('connect postgres://app:pg-password-123@db failed'); } },
    });
    r = await get(`${s2.url}/readyz`);
    expect(r.status).toBe(503);
    expect(r.text).not.toContain('pg-password-123');
  });

  it('serves /metrics in the text exposition format', async () => {
    const events = new Emitter<DigestEvents>();
    const metrics = createMetrics(events, { defaultMetrics: false });
    const s = await start({ port: 0, host: '127.0.0.1', metrics, checks: { live: () => ({ ok: true }), ready: async () => ({ ok: true }) } });
    events.emit('run:end', { job: 'daily', slot: new Date(), status: 'succeeded', durationMs: 10, attempts: 1, messageIds: [1] });
    const r = await get(`${s.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.type).toContain('text/plain');
    expect(r.text).toContain('# TYPE pachca_digest_runs_total counter');
    expect(r.text).toContain('pachca_digest_runs_total{job="daily",status="succeeded"} 1');
  });

  it('404 for unknown paths and /metrics when disabled, 405 for other methods', async () => {
    const s = await start({ port: 0, host: '127.0.0.1', checks: { live: () => ({ ok: true }), ready: async () => ({ ok: true }) } });
    expect((await get(`${s.url}/nope`)).status).toBe(404);
    expect((await get(`${s.url}/metrics`)).status).toBe(404);
    expect((await get(`${s.url}/healthz`, 'POST')).status).toBe(405);
    expect((await get(`${s.url}/healthz`, 'HEAD')).status).toBe(200);
  });

  it('close() stops listening; a busy port is an E_USAGE error with a hint', async () => {
    const s = await start({ port: 0, host: '127.0.0.1', checks: { live: () => ({ ok: true }), ready: async () => ({ ok: true }) } });
    await expect(startHealthServer({ port: s.port, host: '127.0.0.1', checks: { live: () => ({ ok: true }), ready: async () => ({ ok: true }) } })).rejects.toSatisfy(
      (e: unknown) => e instanceof DigestError && e.code === 'E_USAGE' && /--http-port/.test(e.hint ?? ''),
    );
    await s.close();
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });
});
