/**
 * What the ledger being unavailable must not cost the daemon: a slot whose run could not be claimed
 * (the claim gave up) is tried again by the sweep, and start-up catch-up that could not read the
 * ledger is done at the next sweep. The ledger is the real one (SQLite in memory), behind a switch
 * that makes every call fail the way a refused connection does, for as long as it is "down".
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Daemon } from '../../src/scheduler/daemon.js';
import { Emitter } from '../../src/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { openStateStore } from '../../src/state/index.js';
import type { StateStore } from '../../src/state/types.js';
import type { JobConfig } from '../../src/config/types.js';
import { job } from '../helpers/jobs.js';

/** The real store; while `down`, every method rejects with ECONNREFUSED. */
function switchable(store: StateStore): { store: StateStore; down: { value: boolean } } {
  const down = { value: false };
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || prop === 'close') return v;
      return (...args: unknown[]) => {
        if (down.value) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, down };
}

/** Claims like the pipeline: through the ledger, throwing when it is unavailable (as runJob does once its retry gives up). */
function claimingRun(store: StateStore, ran: string[], calls = { n: 0 }) {
  return async (j: JobConfig, slot: Date) => {
    calls.n++;
    const claim = await store.claim(j.name, slot, { owner: 'test', leaseMs: 60_000, now: new Date() });
    if (!claim.claimed) return { status: 'already-done' };
    ran.push(slot.toISOString());
    await store.finish(claim.run.id, { status: 'succeeded', now: new Date() });
    return { status: 'succeeded' };
  };
}

describe('Daemon: what a ledger outage must not cost', () => {
  let base: StateStore;
  const daemons: Daemon[] = [];
  beforeEach(async () => {
    base = await openStateStore('sqlite::memory:', { baseDir: process.cwd() });
  });
  afterEach(async () => {
    vi.useRealTimers();
    for (const d of daemons.splice(0)) await d.stop();
    await base.close();
  });

  const make = (jobs: JobConfig[], store: StateStore, run: ConstructorParameters<typeof Daemon>[0]['run']) => {
    const d = new Daemon({ jobs, store, run, events: new Emitter(), logger: silentLogger, shutdownGraceMs: 5_000, sweepIntervalMs: 30_000 });
    daemons.push(d);
    return d;
  };

  it('a slot whose claim failed (the run threw) is claimed and run once by a later sweep', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T05:59:50Z') });
    const { store, down } = switchable(base);
    const ran: string[] = [];
    const calls = { n: 0 };
    const d = make([job({ name: 'daily', schedule: '0 9 * * *' })], store, claimingRun(store, ran, calls));
    await d.start();
    down.value = true;
    await vi.advanceTimersByTimeAsync(15_000); // the 09:00 slot fires; its claim fails
    expect(calls.n).toBe(1);
    expect(ran).toEqual([]);
    down.value = false;
    await vi.advanceTimersByTimeAsync(120_000); // sweeps
    expect(ran).toEqual(['2026-11-24T06:00:00.000Z']);
    expect(calls.n).toBe(2);
    expect((await base.getRun('daily', new Date('2026-11-24T06:00:00Z')))?.status).toBe('succeeded');
  });

  it('catch-up that could not read the ledger at start-up runs at the next sweep', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T06:00:10Z') });
    const hourly = job({ name: 'hourly', schedule: '0 * * * *' });
    const done = await base.claim('hourly', new Date('2026-11-24T06:00:00Z'), { owner: 'earlier', leaseMs: 60_000, now: new Date() });
    await base.finish(done.run.id, { status: 'succeeded', now: new Date() });
    vi.setSystemTime(new Date('2026-11-24T08:30:00Z')); // down for 07:00 and 08:00
    const { store, down } = switchable(base);
    const ran: string[] = [];
    const d = make([hourly], store, claimingRun(store, ran));
    down.value = true;
    await d.start();
    expect(ran).toEqual([]);
    down.value = false;
    await vi.advanceTimersByTimeAsync(61_000);
    // catch_up defaults to latest: the newest missed slot, once.
    expect(ran).toEqual(['2026-11-24T08:00:00.000Z']);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(ran).toEqual(['2026-11-24T08:00:00.000Z']);
  });
});
