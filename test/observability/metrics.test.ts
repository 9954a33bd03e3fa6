import { describe, expect, it } from 'vitest';
import { Emitter, type DigestEvents } from '../../src/events.js';
import { createMetrics } from '../../src/observability/metrics.js';

const slot = new Date('2026-11-24T06:00:00.000Z');

function setup(jobs?: string[]) {
  const events = new Emitter<DigestEvents>();
  const metrics = createMetrics(events, { defaultMetrics: false, now: () => 1_790_000_000_000, jobs });
  return { events, metrics };
}

/** The value of one series in the exposition text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('createMetrics', () => {
  it('counts runs by job and status, with duration and last success time', async () => {
    const { events, metrics } = setup();
    events.emit('run:end', { job: 'daily-sales', slot, status: 'succeeded', durationMs: 1500, attempts: 1, messageIds: [1] });
    events.emit('run:end', { job: 'daily-sales', slot, status: 'succeeded', durationMs: 500, attempts: 1, messageIds: [2] });
    events.emit('run:end', { job: 'weekly', slot, status: 'failed', durationMs: 100, attempts: 2, messageIds: [], error: { code: 'E_SOURCE', message: 'x' } });
    const text = await metrics.metrics();
    expect(sample(text, 'pachca_digest_runs_total{job="daily-sales",status="succeeded"}')).toBe(2);
    expect(sample(text, 'pachca_digest_runs_total{job="weekly",status="failed"}')).toBe(1);
    expect(sample(text, 'pachca_digest_run_duration_seconds_sum{job="daily-sales",status="succeeded"}')).toBe(2);
    expect(sample(text, 'pachca_digest_run_duration_seconds_count{job="daily-sales",status="succeeded"}')).toBe(2);
    expect(sample(text, 'pachca_digest_run_duration_seconds_bucket{le="1",job="daily-sales",status="succeeded"}')).toBe(1);
    expect(sample(text, 'pachca_digest_last_success_timestamp_seconds{job="daily-sales"}')).toBe(1_790_000_000);
    expect(sample(text, 'pachca_digest_last_success_timestamp_seconds{job="weekly"}')).toBeUndefined();
    expect(sample(text, 'pachca_digest_last_failure_timestamp_seconds{job="weekly"}')).toBe(1_790_000_000);
    expect(metrics.contentType).toContain('text/plain');
  });

  it('counts Pachca requests, 429s, retries and limiter wait time by request class', async () => {
    const { events, metrics } = setup();
    // Bucket keys as the client emits them: one per chat (or message) for message writes.
    events.emit('pachca:request', { method: 'post', path: '/messages', status: 201, durationMs: 40, bucket: 'messageWrite:chat:101', attempt: 1, class: 'messageWrite' });
    events.emit('pachca:request', { method: 'POST', path: '/messages', status: 201, durationMs: 40, bucket: 'messageWrite:chat:102', attempt: 1, class: 'messageWrite' });
    events.emit('pachca:request', { method: 'PUT', path: '/messages/5', status: 200, durationMs: 40, bucket: 'messageWrite:message:5', attempt: 1, class: 'messageWrite' });
    events.emit('pachca:request', { method: 'POST', path: '/messages', status: 429, durationMs: 10, bucket: 'messageWrite:chat:103', attempt: 1, class: 'messageWrite' });
    events.emit('pachca:request', { method: 'GET', path: '/chats', status: 'error', durationMs: 10, bucket: 'other', attempt: 1, class: 'other' });
    events.emit('pachca:rate-limited', { method: 'POST', path: '/messages', bucket: 'messageWrite:chat:103', retryAfterMs: 1000, class: 'messageWrite' });
    events.emit('pachca:rate-limited', { method: 'POST', path: '/messages', bucket: 'messageWrite:chat:104', retryAfterMs: 1000, class: 'messageWrite' });
    events.emit('pachca:paused', { bucket: 'messageWrite:chat:103', untilMs: 1, class: 'messageWrite' });
    events.emit('pachca:paused', { bucket: 'messageWrite:chat:104', untilMs: 1, class: 'messageWrite' });
    events.emit('pachca:retry', { method: 'GET', path: '/chats', attempt: 2, delayMs: 500, reason: 'ECONNRESET' });
    events.emit('pachca:limiter-wait', { bucket: 'messageWrite:chat:101', waitedMs: 250, class: 'messageWrite' });
    events.emit('pachca:limiter-wait', { bucket: 'messageWrite:chat:102', waitedMs: 750, class: 'messageWrite' });
    events.emit('pachca:breaker', { state: 'open' });
    events.emit('pachca:deduplicated', { chatId: 1, messageId: 2 });
    const text = await metrics.metrics();
    expect(sample(text, 'pachca_digest_pachca_requests_total{class="messageWrite",method="POST",status="201"}')).toBe(2);
    expect(sample(text, 'pachca_digest_pachca_requests_total{class="messageWrite",method="PUT",status="200"}')).toBe(1);
    expect(sample(text, 'pachca_digest_pachca_requests_total{class="messageWrite",method="POST",status="429"}')).toBe(1);
    expect(sample(text, 'pachca_digest_pachca_requests_total{class="other",method="GET",status="error"}')).toBe(1);
    expect(sample(text, 'pachca_digest_pachca_request_duration_seconds_count{class="messageWrite"}')).toBe(4);
    expect(sample(text, 'pachca_digest_pachca_rate_limited_total{class="messageWrite"}')).toBe(2);
    expect(sample(text, 'pachca_digest_pachca_paused_total{class="messageWrite"}')).toBe(2);
    expect(sample(text, 'pachca_digest_pachca_retries_total{method="GET"}')).toBe(1);
    expect(sample(text, 'pachca_digest_pachca_limiter_wait_seconds_total{class="messageWrite"}')).toBe(1);
    expect(sample(text, 'pachca_digest_pachca_breaker_open')).toBe(1);
    expect(sample(text, 'pachca_digest_pachca_deduplicated_total')).toBe(1);
    // Paths and bucket keys carry ids: they must never become labels (one series per chat).
    expect(text).not.toContain('/messages');
    expect(text).not.toMatch(/chat:|message:|bucket=/);
  });

  it('bounds the class label even for events without one (older emitters, odd keys)', async () => {
    const { events, metrics } = setup();
    events.emit('pachca:request', { method: 'GET', path: '/messages', status: 200, durationMs: 5, bucket: 'messageRead', attempt: 1 });
    events.emit('pachca:request', { method: 'POST', path: '/messages', status: 201, durationMs: 5, bucket: 'messageWrite:chat:7', attempt: 1 });
    events.emit('pachca:request', { method: 'GET', path: '/x', status: 200, durationMs: 5, bucket: 'weird:chat:9', attempt: 1 });
    events.emit('pachca:limiter-wait', { bucket: 'eventHistory', waitedMs: 2000 });
    events.emit('pachca:paused', { bucket: 'messageWrite:thread:3', untilMs: 1 });
    const text = await metrics.metrics();
    expect(sample(text, 'pachca_digest_pachca_requests_total{class="messageRead",method="GET",status="200"}')).toBe(1);
    expect(sample(text, 'pachca_digest_pachca_requests_total{class="messageWrite",method="POST",status="201"}')).toBe(1);
    expect(sample(text, 'pachca_digest_pachca_requests_total{class="other",method="GET",status="200"}')).toBe(1);
    expect(sample(text, 'pachca_digest_pachca_limiter_wait_seconds_total{class="eventHistory"}')).toBe(2);
    expect(sample(text, 'pachca_digest_pachca_paused_total{class="messageWrite"}')).toBe(1);
    expect(text).not.toMatch(/chat:|thread:|weird/);
  });

  it('tracks next run per job and drops it when there is none', async () => {
    const { events, metrics } = setup();
    events.emit('scheduler:next', { job: 'a', at: new Date('2026-11-25T06:00:00Z') });
    events.emit('scheduler:next', { job: 'b', at: new Date('2026-11-26T06:00:00Z') });
    events.emit('scheduler:next', { job: 'b', at: null });
    events.emit('scheduler:tick', { at: new Date('2026-11-24T06:00:00Z') });
    const text = await metrics.metrics();
    expect(sample(text, 'pachca_digest_next_run_timestamp_seconds{job="a"}')).toBe(Date.parse('2026-11-25T06:00:00Z') / 1000);
    expect(sample(text, 'pachca_digest_next_run_timestamp_seconds{job="b"}')).toBeUndefined();
    expect(sample(text, 'pachca_digest_scheduler_last_tick_timestamp_seconds')).toBe(Date.parse('2026-11-24T06:00:00Z') / 1000);
  });

  it('pre-creates run series for known jobs, and stop() unsubscribes', async () => {
    const { events, metrics } = setup(['daily']);
    expect(sample(await metrics.metrics(), 'pachca_digest_runs_total{job="daily",status="failed"}')).toBe(0);
    metrics.stop();
    events.emit('run:end', { job: 'daily', slot, status: 'failed', durationMs: 1, attempts: 1, messageIds: [] });
    expect(sample(await metrics.metrics(), 'pachca_digest_runs_total{job="daily",status="failed"}')).toBe(0);
  });

  it('includes process metrics by default, in its own registry each time', async () => {
    const events = new Emitter<DigestEvents>();
    const a = createMetrics(events);
    const b = createMetrics(events);
    expect(a.registry).not.toBe(b.registry);
    expect(await a.metrics()).toContain('pachca_digest_process_cpu_user_seconds_total');
  });
});
