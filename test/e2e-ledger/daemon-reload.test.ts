/**
 * A SIGHUP reload must not lose a slot: the reload can land after a slot's time but before the
 * daemon's timer for it fires. Fake timers pin that moment exactly; the runs claim through a real
 * (in-memory SQLite) ledger.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Daemon } from '../../src/scheduler/daemon.js';
import { Emitter } from '../../src/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { openStateStore } from '../../src/state/index.js';
import type { StateStore } from '../../src/state/types.js';
import type { JobConfig } from '../../src/config/types.js';
import { job } from '../helpers/jobs.js';

describe('Daemon.reload', () => {
  let store: StateStore;
  let daemon: Daemon | undefined;
  const slots: string[] = [];

  const run = async (j: JobConfig, slot: Date) => {
    const claim = await store.claim(j.name, slot, { owner: 'test', leaseMs: 60_000, now: new Date() });
    if (!claim.claimed) return { status: 'already-done' };
    slots.push(`${j.name} ${slot.toISOString()}`);
    await store.finish(claim.run.id, { status: 'succeeded', now: new Date() });
    return { status: 'succeeded' };
  };

  beforeEach(async () => {
    slots.length = 0;
    store = await openStateStore('sqlite::memory:', { baseDir: process.cwd() });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await daemon?.stop();
    daemon = undefined;
    await store.close();
  });

  it('a reload between a slot and its timer still runs that slot, once', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T05:59:59Z') }); // 08:59:59 Moscow
    daemon = new Daemon({ jobs: [job({ name: 'daily', schedule: '0 9 * * *' })], store, run, events: new Emitter(), logger: silentLogger });
    await daemon.start();
    // The clock reaches 09:00 but the timer has not fired yet when the reload comes in.
    vi.setSystemTime(new Date('2026-11-24T06:00:00Z'));
    daemon.reload([job({ name: 'daily', schedule: '0 9 * * *' })]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(slots).toEqual(['daily 2026-11-24T06:00:00.000Z']);
    expect(daemon.nextRuns()).toEqual([{ job: 'daily', at: new Date('2026-11-25T06:00:00Z') }]);
  });

  it('a changed schedule is recomputed from now, not kept', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T05:00:00Z') }); // 08:00 Moscow
    daemon = new Daemon({ jobs: [job({ name: 'daily', schedule: '0 9 * * *' })], store, run, events: new Emitter(), logger: silentLogger });
    await daemon.start();
    daemon.reload([job({ name: 'daily', schedule: '30 8 * * *' })]);
    expect(daemon.nextRuns()).toEqual([{ job: 'daily', at: new Date('2026-11-24T05:30:00Z') }]);
    await vi.advanceTimersByTimeAsync(3_600_000 + 1_000);
    expect(slots).toEqual(['daily 2026-11-24T05:30:00.000Z']);
  });
});
