/**
 * The daemon's loop with fake timers from fixed reference times: when it fires, DST, catch-up,
 * overlap policies, retries and shutdown. Runs go through the real ledger (SQLite in memory);
 * the run function records slots and claims them like the pipeline does.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getTasks } from 'node-cron';
import { Daemon } from '../../src/scheduler/daemon.js';
import { Emitter } from '../../src/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { openStateStore } from '../../src/state/index.js';
import type { StateStore } from '../../src/state/types.js';
import type { JobConfig } from '../../src/config/types.js';
import { job } from '../helpers/jobs.js';

interface Recorder {
  slots: string[];
  run: (j: JobConfig, slot: Date, o: { signal: AbortSignal; retryFailed: boolean }) => Promise<{ status: string }>;
}

/** Claims through the ledger like the pipeline, so catch-up sees what ran. */
function recorder(store: StateStore, behaviour: (slot: Date, signal: AbortSignal, attempt: number) => Promise<'succeeded' | 'failed'> = async () => 'succeeded'): Recorder {
  const slots: string[] = [];
  return {
    slots,
    run: async (j, slot, o) => {
      const claim = await store.claim(j.name, slot, { owner: 'test', leaseMs: 60_000, now: new Date(), retryFailed: o.retryFailed });
      if (!claim.claimed) return { status: 'already-done' };
      slots.push(slot.toISOString());
      const status = await behaviour(slot, o.signal, claim.run.attempts);
      await store.finish(claim.run.id, { status, now: new Date() });
      return { status };
    },
  };
}

describe('Daemon', () => {
  let store: StateStore;
  const daemons: Daemon[] = [];
  const make = (jobs: JobConfig[], r: Recorder, extra: { maxConcurrentRuns?: number; sweepIntervalMs?: number } = {}) => {
    const d = new Daemon({ jobs, store, run: r.run, events: new Emitter(), logger: silentLogger, shutdownGraceMs: 5_000, ...extra });
    daemons.push(d);
    return d;
  };

  beforeEach(async () => {
    store = await openStateStore('sqlite::memory:', { baseDir: process.cwd() });
  });
  afterEach(async () => {
    vi.useRealTimers();
    for (const d of daemons.splice(0)) await d.stop();
    await store.close();
  });

  it('fires a job at its scheduled time, not before', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T05:59:00Z') }); // 08:59 Moscow
    const r = recorder(store);
    const d = make([job({ name: 'daily', schedule: '0 9 * * *' })], r);
    await d.start();
    await vi.advanceTimersByTimeAsync(59_000);
    expect(r.slots).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(r.slots).toEqual(['2026-11-24T06:00:00.000Z']);
    await vi.advanceTimersByTimeAsync(24 * 3_600_000);
    expect(r.slots).toEqual(['2026-11-24T06:00:00.000Z', '2026-11-25T06:00:00.000Z']);
  });

  it('Europe/Berlin spring forward: the 02:30 slot runs once, at 03:00 CEST', async () => {
    vi.useFakeTimers({ now: new Date('2026-03-28T23:00:00Z') }); // 00:00 CET on the day of the change
    const r = recorder(store);
    const d = make([job({ name: 'night', schedule: '30 2 * * *', timezone: 'Europe/Berlin' })], r);
    await d.start();
    await vi.advanceTimersByTimeAsync(4 * 3_600_000);
    expect(r.slots).toEqual(['2026-03-29T01:00:00.000Z']);
  });

  it('America/New_York fall back: a 01:30 slot runs once in the repeated hour', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-01T04:00:00Z') }); // 00:00 EDT
    const r = recorder(store);
    const d = make([job({ name: 'late', schedule: '30 1 * * *', timezone: 'America/New_York' })], r);
    await d.start();
    await vi.advanceTimersByTimeAsync(5 * 3_600_000);
    expect(r.slots).toEqual(['2026-11-01T05:30:00.000Z']);
  });

  it.each([
    ['latest', ['2026-11-24T08:00:00.000Z']],
    ['all', ['2026-11-24T07:00:00.000Z', '2026-11-24T08:00:00.000Z']],
    ['none', []],
  ] as const)('downtime across two slots, catch_up %s', async (policy, expected) => {
    vi.useFakeTimers({ now: new Date('2026-11-24T06:00:30Z') });
    const hourly = job({ name: 'hourly', schedule: '0 * * * *', catchUp: policy });
    const first = recorder(store);
    const d1 = make([hourly], first);
    await d1.start();
    await vi.advanceTimersByTimeAsync(60_000); // nothing due yet; first start recorded
    await first.run(hourly, new Date('2026-11-24T06:00:00Z'), { signal: new AbortController().signal, retryFailed: false });
    await d1.stop();
    // Down for two slots (07:00 and 08:00), back at 08:20.
    vi.setSystemTime(new Date('2026-11-24T08:20:00Z'));
    const second = recorder(store);
    const d2 = make([hourly], second);
    await d2.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(second.slots).toEqual(expected);
  });

  it('catch_up latest after 2 h down, per-minute job: runs the LATEST missed slot, not one 100 slots in', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T06:00:30Z') });
    const minutely = job({ name: 'minutely', schedule: '* * * * *', catchUp: 'latest', startingDeadlineMs: 3 * 3_600_000 });
    const first = recorder(store);
    const d1 = make([minutely], first);
    await d1.start();
    await first.run(minutely, new Date('2026-11-24T06:00:00Z'), { signal: new AbortController().signal, retryFailed: false });
    await d1.stop();
    vi.setSystemTime(new Date('2026-11-24T08:00:10Z'));
    const second = recorder(store);
    const d2 = make([minutely], second);
    await d2.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(second.slots).toEqual(['2026-11-24T08:00:00.000Z']);
    await d2.stop();
  });

  it('a job never seen before does not post a past slot on first start', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T06:30:00Z') });
    const r = recorder(store);
    const d = make([job({ name: 'fresh', schedule: '0 * * * *' })], r);
    await d.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(r.slots).toEqual([]);
  });

  it('concurrency forbid skips a slot while the previous run is still going; allow overlaps; replace cancels', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T06:00:30Z') });
    const slow = (ms: number) => async (_slot: Date, signal: AbortSignal) =>
      new Promise<'succeeded' | 'failed'>((resolve) => {
        const t = setTimeout(() => resolve('succeeded'), ms);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve('failed');
        });
      });
    const results: Record<string, string[]> = {};
    for (const policy of ['forbid', 'allow', 'replace'] as const) {
      const aborted: string[] = [];
      const r = recorder(store, async (slot, signal) => {
        signal.addEventListener('abort', () => aborted.push(slot.toISOString()));
        return slow(90_000)(slot, signal);
      });
      const d = make([job({ name: `every-minute-${policy}`, schedule: '* * * * *', concurrency: policy })], r);
      await d.start();
      await vi.advanceTimersByTimeAsync(3 * 60_000);
      results[policy] = r.slots;
      if (policy === 'replace') expect(aborted.length).toBeGreaterThan(0);
      const stopped = d.stop();
      await vi.advanceTimersByTimeAsync(120_000);
      await stopped;
    }
    // Runs last 90 s, slots every 60 s: forbid runs every other slot, allow runs all, replace runs all (cancelling).
    expect(results.forbid).toHaveLength(2);
    expect(results.allow).toHaveLength(3);
    expect(results.replace).toHaveLength(3);
    const skipped = (await store.history({ job: 'every-minute-forbid', limit: 10 })).filter((h) => h.status === 'skipped');
    expect(skipped).toHaveLength(1);
  });

  it('retries a failed run with backoff, delivering on the retry', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T05:59:59Z') });
    let calls = 0;
    const r = recorder(store, async () => (++calls < 3 ? 'failed' : 'succeeded'));
    const d = make([job({ name: 'flaky', schedule: '0 9 * * *', retries: { count: 3, backoffMs: 10_000 } })], r);
    await d.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(calls).toBe(3);
    const run = await store.getRun('flaky', new Date('2026-11-24T06:00:00Z'));
    expect(run?.status).toBe('succeeded');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(3);
  });

  it('stop() waits for runs in flight, then cancels them after the grace period', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T05:59:59Z') });
    let signalSeen: AbortSignal | undefined;
    const r = recorder(store, (_slot, signal) => {
      signalSeen = signal;
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve('failed')));
    });
    const d = make([job({ name: 'stuck', schedule: '0 9 * * *' })], r);
    await d.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(d.running).toBe(1);
    const stopping = d.stop();
    await vi.advanceTimersByTimeAsync(4_000);
    expect(signalSeen?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1_500);
    await stopping;
    expect(signalSeen?.aborted).toBe(true);
    expect(d.running).toBe(0);
  });

  it('reload swaps the jobs without dropping a run in flight', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T05:59:59Z') });
    let finish: (() => void) | undefined;
    const r = recorder(store, () => new Promise((resolve) => (finish = () => resolve('succeeded'))));
    const d = make([job({ name: 'a', schedule: '0 9 * * *' })], r);
    await d.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(d.running).toBe(1);
    d.reload([job({ name: 'a', schedule: '0 10 * * *' }), job({ name: 'b', schedule: '0 10 * * *' })]);
    expect(d.running).toBe(1);
    finish!();
    await vi.advanceTimersByTimeAsync(10);
    expect((await store.getRun('a', new Date('2026-11-24T06:00:00Z')))?.status).toBe('succeeded');
    expect(d.nextRuns().map((n) => [n.job, n.at?.toISOString()])).toEqual([
      ['a', '2026-11-24T07:00:00.000Z'],
      ['b', '2026-11-24T07:00:00.000Z'],
    ]);
  });

  it('schedules each enabled job with node-cron in its time zone, and removes the tasks on reload and stop', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T05:59:00Z') });
    const ours = () => [...getTasks().values()].filter((t) => t.name?.startsWith('pachca-digest:')).map((t) => t.name).sort();
    const r = recorder(store);
    const d = make(
      [
        job({ name: 'a', schedule: '0 9 * * *' }),
        job({ name: 'off', schedule: '0 9 * * *', enabled: false }),
        // Valid here, rejected by node-cron: still scheduled by the pure-slot timer.
        job({ name: 'stepped', schedule: '5/10 * * * *' }),
      ],
      r,
    );
    await d.start();
    expect(ours()).toEqual(['pachca-digest:a']);
    await vi.advanceTimersByTimeAsync(6 * 60_000);
    expect(r.slots).toEqual(['2026-11-24T06:00:00.000Z', '2026-11-24T06:05:00.000Z']);
    d.reload([job({ name: 'b', schedule: '*/5 * * * *' })]);
    expect(ours()).toEqual(['pachca-digest:b']);
    await d.stop();
    expect(ours()).toEqual([]);
  });

  it('jobs sharing a schedule and zone share one node-cron task (each task is a timer every second)', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T05:59:00Z') });
    const ours = () => [...getTasks().values()].filter((t) => t.name?.startsWith('pachca-digest:')).length;
    const r = recorder(store);
    const jobs = Array.from({ length: 50 }, (_, i) => job({ name: `same-${i}`, schedule: '0 9 * * *' }));
    jobs.push(job({ name: 'berlin', schedule: '0 9 * * *', timezone: 'Europe/Berlin' }));
    const d = make(jobs, r);
    await d.start();
    expect(ours()).toBe(2);
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(r.slots).toHaveLength(50);
    await d.stop();
    expect(ours()).toBe(0);
  });

  it('many jobs due at once queue for a bounded number of run places; every slot still runs once', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T05:59:59Z') });
    let active = 0;
    let peak = 0;
    const r = recorder(store, async () => {
      peak = Math.max(peak, ++active);
      await new Promise((res) => setTimeout(res, 1_000));
      active--;
      return 'succeeded';
    });
    const jobs = Array.from({ length: 40 }, (_, i) => job({ name: `j${i}`, schedule: '0 9 * * *' }));
    const d = make(jobs, r, { maxConcurrentRuns: 4 });
    await d.start();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(r.slots).toHaveLength(40);
    expect(new Set(r.slots)).toEqual(new Set(['2026-11-24T06:00:00.000Z']));
    expect(peak).toBe(4);
    const runs = await store.history({ limit: 100 });
    expect(runs.filter((x) => x.status === 'succeeded')).toHaveLength(40);
  });

  it('stopping while runs wait for a place: the waiting ones never start, the running ones finish', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T05:59:59Z') });
    const r = recorder(store, async () => {
      await new Promise((res) => setTimeout(res, 1_000));
      return 'succeeded';
    });
    const jobs = Array.from({ length: 10 }, (_, i) => job({ name: `j${i}`, schedule: '0 9 * * *' }));
    const d = make(jobs, r, { maxConcurrentRuns: 2 });
    await d.start();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(r.slots).toHaveLength(2);
    expect(d.running).toBe(10);
    const stopped = d.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    await stopped;
    expect(r.slots).toHaveLength(2);
    expect(d.running).toBe(0);
    const runs = await store.history({ limit: 100 });
    expect(runs.map((x) => x.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('replace cancels a run still waiting for a place: it stops counting at once and never starts', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T05:59:59Z') });
    const r = recorder(store, async (_slot, signal) => {
      await new Promise((res) => {
        setTimeout(res, 90_000);
        signal.addEventListener('abort', res, { once: true });
      });
      return 'succeeded';
    });
    // One place, taken by a long run of another job; `often` queues behind it every minute.
    const d = make([job({ name: 'long', schedule: '0 9 * * *' }), job({ name: 'often', schedule: '* * * * *', concurrency: 'replace' })], r, { maxConcurrentRuns: 1 });
    await d.start();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(d.running).toBe(2);
    await vi.advanceTimersByTimeAsync(60_000);
    // The 09:01 slot replaced the waiting 09:00 one: still one waiting run of `often`, not two.
    expect(d.running).toBe(2);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(r.slots.filter((x) => x === '2026-11-24T06:00:00.000Z')).toHaveLength(1);
    expect(r.slots).toContain('2026-11-24T06:01:00.000Z');
    const stopped = d.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    await stopped;
  });

  it('on restart, finishes a run a crashed process left running once its lease is over, even with catch_up none', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T06:00:05Z') });
    const slot = new Date('2026-11-24T06:00:00Z');
    await store.setFlag('first-seen:daily', '2026-11-01T00:00:00.000Z');
    const dead = await store.claim('daily', slot, { owner: 'dead-process', leaseMs: 10_000, now: new Date() });
    await store.recordDelivery(dead.run.id, { key: 'chat:101', messageId: 1, chatId: 101, url: null, deliveredAt: new Date() });
    vi.setSystemTime(new Date('2026-11-24T06:00:30Z')); // lease over
    const r = recorder(store);
    const d = make([job({ name: 'daily', schedule: '0 9 * * *', catchUp: 'none' })], r);
    await d.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(r.slots).toEqual([slot.toISOString()]);
    const run = await store.getRun('daily', slot);
    expect(run?.status).toBe('succeeded');
    expect(run?.attempts).toBe(2);
    expect(run?.deliveries.map((x) => x.key)).toEqual(['chat:101']);
  });

  it('while running, takes over a run another replica left running after its lease expires', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T06:00:01Z') });
    const r = recorder(store);
    const d = make([job({ name: 'shared', schedule: '0 9 * * *' })], r, { sweepIntervalMs: 30_000 });
    await d.start();
    // Another replica claimed the 09:00 slot first, then died without finishing.
    await store.claim('shared', new Date('2026-11-24T06:00:00Z'), { owner: 'replica-2', leaseMs: 20_000, now: new Date() });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(r.slots).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(r.slots).toEqual(['2026-11-24T06:00:00.000Z']);
    expect((await store.getRun('shared', new Date('2026-11-24T06:00:00Z')))?.status).toBe('succeeded');
  });

  it('a job that ran before (e.g. by run-job) but was never scheduled here still catches up on restart', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T06:00:10Z') });
    const hourly = job({ name: 'hourly', schedule: '0 * * * *' });
    const manual = await store.claim('hourly', new Date('2026-11-24T06:00:00Z'), { owner: 'run-job', leaseMs: 60_000, now: new Date() });
    await store.finish(manual.run.id, { status: 'succeeded', now: new Date() });
    vi.setSystemTime(new Date('2026-11-24T08:30:00Z'));
    const r = recorder(store);
    const d = make([hourly], r);
    await d.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(r.slots).toEqual(['2026-11-24T08:00:00.000Z']);
  });

  it('closes a run left running past its starting deadline as failed instead of posting it late', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T06:00:05Z') });
    const slot = new Date('2026-11-24T06:00:00Z');
    await store.setFlag('first-seen:old', '2026-11-01T00:00:00.000Z');
    await store.claim('old', slot, { owner: 'dead-process', leaseMs: 10_000, now: new Date() });
    vi.setSystemTime(new Date('2026-11-24T09:00:00Z')); // 3 h later: past the 2 h deadline
    const r = recorder(store);
    const d = make([job({ name: 'old', schedule: '0 9 * * *' })], r);
    await d.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(r.slots).toEqual([]);
    const run = await store.getRun('old', slot);
    expect(run?.status).toBe('failed');
    expect(run?.error?.message).toMatch(/abandoned/);
  });
});
