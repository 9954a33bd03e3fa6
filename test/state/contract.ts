/**
 * One behavioural contract for every StateStore implementation (SQLite, PostgreSQL).
 * A fixture is one fresh, empty ledger; `open()` returns a NEW independent connection to it each time
 * (another file handle / another pool), which is how "other processes" are simulated.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryRecord, RunRecord, StateStore } from '../../src/state/index.js';

export interface LedgerFixture {
  open(): Promise<StateStore>;
  /** Close whatever is still open and drop the ledger. */
  dispose(): Promise<void>;
}

const T0 = new Date('2025-03-03T06:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const HOUR = 3_600_000;
const LEASE = 60_000;

function delivery(key: string, messageId: number, deliveredAt = at(1_000)): DeliveryRecord {
  return { key, messageId, chatId: 42, url: `https://app.pachca.com/chats/42?message=${messageId}`, deliveredAt };
}

export function describeStateStoreContract(name: string, factory: () => Promise<LedgerFixture>): void {
  describe(`StateStore contract: ${name}`, () => {
    let fx: LedgerFixture;
    let store: StateStore;

    beforeEach(async () => {
      fx = await factory();
      store = await fx.open();
    });
    afterEach(async () => {
      await fx.dispose();
    });

    /** Claim and finish one slot in one go. */
    async function runSlot(job: string, slot: Date, status: 'succeeded' | 'failed' | 'skipped', metrics?: unknown) {
      const c = await store.claim(job, slot, { owner: 'w1', leaseMs: LEASE, now: slot });
      expect(c.claimed).toBe(true);
      await store.finish(c.run.id, {
        status,
        now: new Date(slot.getTime() + 5_000),
        metrics,
        ...(status === 'failed' ? { error: { code: 'E_SOURCE', message: 'boom' } } : {}),
      });
      return c.run;
    }

    it('claims a new slot once; a second claim gets the current record', async () => {
      const first = await store.claim('daily', T0, { owner: 'host-a:1:x', leaseMs: LEASE, now: T0 });
      expect(first.claimed).toBe(true);
      expect(first.run).toMatchObject({ job: 'daily', status: 'running', owner: 'host-a:1:x', attempts: 1, deliveries: [] });
      expect(first.run.slot.getTime()).toBe(T0.getTime());
      expect(first.run.leaseUntil.getTime()).toBe(T0.getTime() + LEASE);
      expect(first.run.finishedAt).toBeNull();

      const second = await store.claim('daily', T0, { owner: 'host-b:2:y', leaseMs: LEASE, now: at(1_000) });
      expect(second.claimed).toBe(false);
      expect(second.run.id).toBe(first.run.id);
      expect(second.run.owner).toBe('host-a:1:x');

      // Other slots and other jobs are independent.
      expect((await store.claim('daily', at(HOUR), { owner: 'b', leaseMs: LEASE, now: T0 })).claimed).toBe(true);
      expect((await store.claim('weekly', T0, { owner: 'b', leaseMs: LEASE, now: T0 })).claimed).toBe(true);
    });

    it('20 concurrent claims over two connections: exactly one winner', async () => {
      const other = await fx.open();
      const slot = at(7 * HOUR);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? store : other).claim('race', slot, { owner: `w${i}`, leaseMs: LEASE, now: slot }),
        ),
      );
      const winners = results.filter((r) => r.claimed);
      expect(winners).toHaveLength(1);
      expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
      const record = await other.getRun('race', slot);
      expect(record?.owner).toBe(winners[0]!.run.owner);
      expect(record?.attempts).toBe(1);
    });

    it('20 concurrent takeovers of an expired lease: exactly one winner', async () => {
      const other = await fx.open();
      const first = await store.claim('race', T0, { owner: 'dead', leaseMs: LEASE, now: T0 });
      const later = at(LEASE + 1);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? store : other).claim('race', T0, { owner: `w${i}`, leaseMs: LEASE, now: later }),
        ),
      );
      expect(results.filter((r) => r.claimed)).toHaveLength(1);
      const record = await store.getRun('race', T0);
      expect(record?.attempts).toBe(2);
      expect(record?.id).not.toBe(first.run.id);
    });

    it('records a batch of deliveries at once; a repeated key is kept once; a lost claim records nothing', async () => {
      const a = await store.claim('batch', T0, { owner: 'a', leaseMs: LEASE, now: T0 });
      await store.recordDeliveries(a.run.id, [delivery('user:1#0', 2001), delivery('user:2#1', 2002, at(1))]);
      await store.recordDeliveries(a.run.id, [delivery('user:2#1', 2002, at(1)), delivery('user:3#2', 2003, at(2))]);
      await store.recordDeliveries(a.run.id, []);
      expect((await store.getRun('batch', T0))?.deliveries.map((d) => [d.key, d.messageId]).sort()).toEqual([
        ['user:1#0', 2001],
        ['user:2#1', 2002],
        ['user:3#2', 2003],
      ]);
      const b = await store.claim('batch', T0, { owner: 'b', leaseMs: LEASE, now: at(LEASE + 1) });
      expect(b.claimed).toBe(true);
      await expect(store.recordDeliveries(a.run.id, [delivery('user:4#3', 2004)])).rejects.toMatchObject({ code: 'E_STATE' });
      expect((await store.getRun('batch', T0))?.deliveries).toHaveLength(3);
    });

    it('takes over an expired lease and keeps the deliveries already made', async () => {
      const a = await store.claim('daily', T0, { owner: 'a', leaseMs: LEASE, now: T0 });
      await store.recordDelivery(a.run.id, delivery('chat:42#0', 1001));

      // Still live (lease ends at T0+LEASE): no takeover.
      expect((await store.claim('daily', T0, { owner: 'b', leaseMs: LEASE, now: at(LEASE - 1) })).claimed).toBe(false);

      const b = await store.claim('daily', T0, { owner: 'b', leaseMs: LEASE, now: at(LEASE + 1) });
      expect(b.claimed).toBe(true);
      expect(b.run).toMatchObject({ status: 'running', owner: 'b', attempts: 2 });
      expect(b.run.id).not.toBe(a.run.id);
      expect(b.run.leaseUntil.getTime()).toBe(at(2 * LEASE + 1).getTime());
      expect(b.run.deliveries.map((d) => [d.key, d.messageId])).toEqual([['chat:42#0', 1001]]);

      // The process that lost its claim can no longer act on the run.
      expect(await store.renewLease(a.run.id, 'a', at(10 * LEASE))).toBe(false);
      await expect(store.finish(a.run.id, { status: 'succeeded', now: at(LEASE + 2) })).rejects.toMatchObject({
        code: 'E_STATE',
      });
      await expect(store.recordDelivery(a.run.id, delivery('chat:42#1', 1002))).rejects.toMatchObject({ code: 'E_STATE' });

      // The new owner delivers only what is missing and finishes.
      await store.recordDelivery(b.run.id, delivery('chat:42#1', 1003, at(LEASE + 3)));
      await store.finish(b.run.id, { status: 'succeeded', now: at(LEASE + 4) });
      const done = await store.getRun('daily', T0);
      expect(done?.deliveries.map((d) => d.key)).toEqual(['chat:42#0', 'chat:42#1']);
    });

    it('renewLease extends a live claim only for its owner', async () => {
      const a = await store.claim('daily', T0, { owner: 'a', leaseMs: LEASE, now: T0 });
      expect(await store.renewLease(a.run.id, 'someone-else', at(5 * LEASE))).toBe(false);
      expect(await store.renewLease(a.run.id, 'a', at(5 * LEASE))).toBe(true);
      expect((await store.getRun('daily', T0))?.leaseUntil.getTime()).toBe(at(5 * LEASE).getTime());
      // Past the original lease but within the renewed one: still held.
      expect((await store.claim('daily', T0, { owner: 'b', leaseMs: LEASE, now: at(2 * LEASE) })).claimed).toBe(false);
      await store.finish(a.run.id, { status: 'succeeded', now: at(3 * LEASE) });
      expect(await store.renewLease(a.run.id, 'a', at(9 * LEASE))).toBe(false);
    });

    it('a finished slot is not claimed again; force re-claims it and forgets its deliveries', async () => {
      const a = await store.claim('daily', T0, { owner: 'a', leaseMs: LEASE, now: T0 });
      await store.recordDelivery(a.run.id, delivery('chat:42#0', 1001));
      await store.finish(a.run.id, { status: 'succeeded', now: at(5_000), metrics: { open: 3 } });

      const again = await store.claim('daily', T0, { owner: 'b', leaseMs: LEASE, now: at(HOUR) });
      expect(again.claimed).toBe(false);
      expect(again.run.status).toBe('succeeded');
      // retryFailed does not apply to a success.
      expect((await store.claim('daily', T0, { owner: 'b', leaseMs: LEASE, now: at(HOUR), retryFailed: true })).claimed).toBe(
        false,
      );

      const forced = await store.claim('daily', T0, { owner: 'b', leaseMs: LEASE, now: at(HOUR), force: true });
      expect(forced.claimed).toBe(true);
      expect(forced.run).toMatchObject({ status: 'running', owner: 'b', attempts: 2, deliveries: [], finishedAt: null, metrics: null });

      // force never steals a live claim.
      const stolen = await store.claim('daily', T0, { owner: 'c', leaseMs: LEASE, now: at(HOUR + 1), force: true });
      expect(stolen.claimed).toBe(false);
      expect(stolen.run.owner).toBe('b');

      // Skipped slots behave like finished ones.
      const s = await runSlot('daily', at(HOUR), 'skipped');
      expect((await store.claim('daily', at(HOUR), { owner: 'x', leaseMs: LEASE, now: at(2 * HOUR) })).claimed).toBe(false);
      const sf = await store.claim('daily', at(HOUR), { owner: 'x', leaseMs: LEASE, now: at(2 * HOUR), force: true });
      expect(sf.claimed).toBe(true);
      expect(sf.run.id).not.toBe(s.id);
    });

    it('a forced re-run is remembered with when it began: a takeover or retry keeps it, the next force renews it', async () => {
      const a = await store.claim('daily', T0, { owner: 'a', leaseMs: LEASE, now: T0 });
      expect(a.run.forcedAt).toBeUndefined();
      await store.finish(a.run.id, { status: 'succeeded', now: at(5_000) });

      const forced = await store.claim('daily', T0, { owner: 'b', leaseMs: LEASE, now: at(HOUR), force: true });
      expect(forced.run.forcedAt).toEqual(at(HOUR));
      await store.recordDelivery(forced.run.id, delivery('chat:42#0', 2001, at(HOUR + 1_000)));
      // The forcing process died: the takeover is the same re-run, so its look-ups start when that began.
      const taken = await store.claim('daily', T0, { owner: 'c', leaseMs: LEASE, now: at(HOUR + 2 * LEASE) });
      expect(taken.claimed).toBe(true);
      expect(taken.run).toMatchObject({ forcedAt: at(HOUR), attempts: 3 });
      expect(taken.run.deliveries.map((d) => d.messageId)).toEqual([2001]);
      // A forced claim of an expired lease is a takeover too (deliveries kept, same start).
      const forcedTakeover = await store.claim('daily', T0, { owner: 'd', leaseMs: LEASE, now: at(HOUR + 4 * LEASE), force: true });
      expect(forcedTakeover.run).toMatchObject({ forcedAt: at(HOUR), attempts: 4 });
      expect(forcedTakeover.run.deliveries).toHaveLength(1);
      await store.finish(forcedTakeover.run.id, { status: 'failed', now: at(HOUR + 5 * LEASE), error: { code: 'E_DELIVERY', message: '503' } });
      const retry = await store.claim('daily', T0, { owner: 'e', leaseMs: LEASE, now: at(HOUR + 6 * LEASE), retryFailed: true });
      expect(retry.run.forcedAt).toEqual(at(HOUR));
      await store.finish(retry.run.id, { status: 'succeeded', now: at(HOUR + 7 * LEASE) });
      expect((await store.getRun('daily', T0))?.forcedAt).toEqual(at(HOUR));

      const again = await store.claim('daily', T0, { owner: 'f', leaseMs: LEASE, now: at(2 * HOUR), force: true });
      expect(again.run).toMatchObject({ forcedAt: at(2 * HOUR), deliveries: [] });
    });

    it('a failed slot is re-claimed with retryFailed (deliveries kept) or force (deliveries cleared)', async () => {
      const a = await store.claim('daily', T0, { owner: 'a', leaseMs: LEASE, now: T0 });
      await store.recordDelivery(a.run.id, delivery('chat:42#0', 1001));
      await store.finish(a.run.id, { status: 'failed', now: at(5_000), error: { code: 'E_DELIVERY', message: '503' } });

      expect((await store.claim('daily', T0, { owner: 'b', leaseMs: LEASE, now: at(10_000) })).claimed).toBe(false);

      const retry = await store.claim('daily', T0, { owner: 'b', leaseMs: LEASE, now: at(10_000), retryFailed: true });
      expect(retry.claimed).toBe(true);
      expect(retry.run).toMatchObject({ status: 'running', attempts: 2, error: null, reason: null });
      expect(retry.run.deliveries.map((d) => d.messageId)).toEqual([1001]);
      await store.finish(retry.run.id, { status: 'failed', now: at(15_000), error: { code: 'E_DELIVERY', message: '503' } });

      const forced = await store.claim('daily', T0, { owner: 'c', leaseMs: LEASE, now: at(20_000), force: true });
      expect(forced.claimed).toBe(true);
      expect(forced.run.attempts).toBe(3);
      expect(forced.run.deliveries).toEqual([]);
    });

    it('recordDelivery is idempotent per (run, key)', async () => {
      const a = await store.claim('daily', T0, { owner: 'a', leaseMs: LEASE, now: T0 });
      await store.recordDelivery(a.run.id, delivery('chat:42#1', 2002, at(2_000)));
      await store.recordDelivery(a.run.id, delivery('chat:42#0', 2001, at(1_000)));
      await store.recordDelivery(a.run.id, delivery('chat:42#0', 9999, at(3_000)));
      await store.recordDelivery(a.run.id, { key: 'chat:7#0', messageId: 3001, chatId: null, url: null, deliveredAt: at(2_000) });
      const run = await store.getRun('daily', T0);
      expect(run?.deliveries).toEqual([
        delivery('chat:42#0', 2001, at(1_000)),
        // Same time: ordered by key.
        delivery('chat:42#1', 2002, at(2_000)),
        { key: 'chat:7#0', messageId: 3001, chatId: null, url: null, deliveredAt: at(2_000) },
      ]);
      await expect(store.recordDelivery('no-such-run', delivery('k', 1))).rejects.toMatchObject({ code: 'E_STATE' });
    });

    it('finish stores the outcome, only for the current claim', async () => {
      const a = await store.claim('daily', T0, { owner: 'a', leaseMs: LEASE, now: T0 });
      const error = { code: 'E_SOURCE', message: 'Источник не ответил', hint: 'проверьте токен' };
      await store.finish(a.run.id, { status: 'failed', now: at(4_321), reason: 'source failed', error, metrics: { partial: true } });
      const run = (await store.getRun('daily', T0))!;
      expect(run).toMatchObject({ status: 'failed', reason: 'source failed', error, metrics: { partial: true } });
      expect(run.finishedAt?.getTime()).toBe(at(4_321).getTime());

      // A retried identical finish is harmless; a conflicting one is refused.
      await store.finish(a.run.id, { status: 'failed', now: at(4_400) });
      await expect(store.finish(a.run.id, { status: 'succeeded', now: at(4_500) })).rejects.toMatchObject({ code: 'E_STATE' });
      await expect(store.finish('no-such-run', { status: 'succeeded', now: at(4_500) })).rejects.toMatchObject({
        code: 'E_STATE',
      });
      expect((await store.getRun('daily', T0))?.status).toBe('failed');

      const skipped = await store.claim('daily', at(HOUR), { owner: 'a', leaseMs: LEASE, now: at(HOUR) });
      await store.finish(skipped.run.id, { status: 'skipped', now: at(HOUR + 1), reason: 'no data' });
      expect(await store.getRun('daily', at(HOUR))).toMatchObject({ status: 'skipped', reason: 'no data', error: null, metrics: null });
      expect(await store.getRun('daily', at(2 * HOUR))).toBeNull();
    });

    it('lastSuccess returns the newest success by slot with metrics and deliveries; lastRun any status', async () => {
      expect(await store.lastSuccess('daily')).toBeNull();
      expect(await store.lastRun('daily')).toBeNull();

      const metrics1 = { tasks: { open: 12, closed: 3 }, list: [1, 'два', null], ok: true, ratio: 0.25 };
      await runSlot('daily', at(HOUR), 'succeeded', metrics1);
      const s2 = await store.claim('daily', at(2 * HOUR), { owner: 'a', leaseMs: LEASE, now: at(2 * HOUR) });
      await store.recordDelivery(s2.run.id, delivery('chat:42#0', 5001, at(2 * HOUR + 10)));
      await store.finish(s2.run.id, { status: 'succeeded', now: at(2 * HOUR + 20), metrics: { tasks: { open: 10 } } });
      await runSlot('daily', at(3 * HOUR), 'failed');
      // A success recorded later for an EARLIER slot (catch-up) does not become "last".
      await runSlot('daily', at(0), 'succeeded', { tasks: { open: 99 } });
      await runSlot('other', at(5 * HOUR), 'succeeded', { x: 1 });

      const last = (await store.lastSuccess('daily'))!;
      expect(last.slot.getTime()).toBe(at(2 * HOUR).getTime());
      expect(last.metrics).toEqual({ tasks: { open: 10 } });
      expect(last.deliveries.map((d) => d.messageId)).toEqual([5001]);

      const before = (await store.lastSuccess('daily', at(2 * HOUR)))!;
      expect(before.slot.getTime()).toBe(at(HOUR).getTime());
      // Only the newest success keeps its metrics (it is the next run's `previous`): the ledger does not grow by
      // the size of the data on every run.
      expect(before.metrics).toBeNull();
      expect(metrics1).toBeTruthy();
      expect(await store.lastSuccess('daily', at(0))).toBeNull();

      expect((await store.lastRun('daily'))?.status).toBe('failed');
      expect((await store.lastRun('daily'))?.slot.getTime()).toBe(at(3 * HOUR).getTime());
    });

    it('history is newest first, limited, optionally per job, with deliveries', async () => {
      for (let i = 0; i < 5; i++) {
        const c = await store.claim('daily', at(i * HOUR), { owner: 'a', leaseMs: LEASE, now: at(i * HOUR) });
        await store.recordDelivery(c.run.id, delivery(`chat:42#${i}`, 100 + i, at(i * HOUR + 1)));
        await store.finish(c.run.id, { status: i === 3 ? 'failed' : 'succeeded', now: at(i * HOUR + 2) });
      }
      await runSlot('weekly', at(2 * HOUR + 30 * 60_000), 'succeeded');

      const daily = await store.history({ job: 'daily', limit: 3 });
      expect(daily.map((r) => r.slot.getTime())).toEqual([4, 3, 2].map((i) => at(i * HOUR).getTime()));
      expect(daily.map((r) => r.deliveries.map((d) => d.messageId))).toEqual([[104], [103], [102]]);
      expect(daily[1]!.status).toBe('failed');

      const all = await store.history({ limit: 100 });
      expect(all).toHaveLength(6);
      expect(all.map((r) => r.job)).toEqual(['daily', 'daily', 'weekly', 'daily', 'daily', 'daily']);
      expect(await store.history({ job: 'nope', limit: 10 })).toEqual([]);
      expect(await store.history({ limit: 0 })).toEqual([]);
    });

    it('consecutiveFailures counts failed runs after the newest success', async () => {
      expect(await store.consecutiveFailures('daily')).toBe(0);
      await runSlot('daily', at(0), 'failed');
      await runSlot('daily', at(HOUR), 'failed');
      expect(await store.consecutiveFailures('daily')).toBe(2);
      await runSlot('daily', at(2 * HOUR), 'succeeded');
      expect(await store.consecutiveFailures('daily')).toBe(0);
      await runSlot('daily', at(3 * HOUR), 'failed');
      await runSlot('daily', at(4 * HOUR), 'skipped');
      await runSlot('daily', at(5 * HOUR), 'failed');
      await store.claim('daily', at(6 * HOUR), { owner: 'a', leaseMs: LEASE, now: at(6 * HOUR) });
      await runSlot('other', at(7 * HOUR), 'failed');
      expect(await store.consecutiveFailures('daily')).toBe(2);
      expect(await store.consecutiveFailures('other')).toBe(1);
    });

    it('flags: get, set, overwrite, delete', async () => {
      expect(await store.getFlag('alert:daily')).toBeNull();
      await store.setFlag('alert:daily', 'open');
      expect(await store.getFlag('alert:daily')).toBe('open');
      await store.setFlag('alert:daily', '{"since":"2025-03-03"}');
      expect(await store.getFlag('alert:daily')).toBe('{"since":"2025-03-03"}');
      const other = await fx.open();
      expect(await other.getFlag('alert:daily')).toBe('{"since":"2025-03-03"}');
      await store.setFlag('alert:daily', null);
      expect(await store.getFlag('alert:daily')).toBeNull();
      await store.setFlag('alert:daily', null);
    });

    it('prune keeps the newest N per job, running runs and the newest success', async () => {
      await runSlot('daily', at(1 * HOUR), 'succeeded', { n: 1 });
      await runSlot('daily', at(2 * HOUR), 'succeeded', { n: 2 });
      await runSlot('daily', at(3 * HOUR), 'failed');
      await runSlot('daily', at(4 * HOUR), 'skipped');
      await store.claim('daily', at(5 * HOUR), { owner: 'a', leaseMs: LEASE, now: at(5 * HOUR) });
      await runSlot('weekly', at(0), 'failed');

      // Count rule only (nothing is older than the epoch).
      expect(await store.prune({ keepRuns: 1, olderThan: new Date(0) })).toBe(3);
      const slots = (runs: RunRecord[]) => runs.map((r) => `${r.job}@${(r.slot.getTime() - T0.getTime()) / HOUR}:${r.status}`);
      expect(slots(await store.history({ limit: 100 }))).toEqual(['daily@5:running', 'daily@2:succeeded', 'weekly@0:failed']);
      expect((await store.lastSuccess('daily'))?.metrics).toEqual({ n: 2 });
      expect(await store.prune({ keepRuns: 1, olderThan: new Date(0) })).toBe(0);

      // Age rule: recorded before the cut-off goes even within the count, with the same exceptions, and the
      // job's newest run (by slot) always stays: catch-up starts from it.
      await runSlot('daily', at(6 * HOUR), 'failed');
      await runSlot('daily', at(7 * HOUR), 'failed');
      await runSlot('weekly', at(HOUR), 'skipped');
      expect(await store.prune({ keepRuns: 100, olderThan: at(10 * HOUR) })).toBe(2);
      expect(slots(await store.history({ limit: 100 }))).toEqual([
        'daily@7:failed',
        'daily@5:running',
        'daily@2:succeeded',
        'weekly@1:skipped',
      ]);

      // A pruned slot may have run: claiming it again is refused (it could post twice); force starts it empty.
      await expect(store.claim('weekly', at(0), { owner: 'a', leaseMs: LEASE, now: at(11 * HOUR) })).rejects.toMatchObject({
        code: 'E_STATE',
        message: expect.stringMatching(/retention already removed runs/),
      });
      // So is an older slot that never ran, but not a newer one.
      await expect(store.claim('weekly', at(-HOUR), { owner: 'a', leaseMs: LEASE, now: at(11 * HOUR) })).rejects.toMatchObject({
        code: 'E_STATE',
      });
      expect((await store.claim('weekly', at(2 * HOUR), { owner: 'a', leaseMs: LEASE, now: at(11 * HOUR) })).claimed).toBe(true);
      const again = await store.claim('weekly', at(0), { owner: 'a', leaseMs: LEASE, now: at(11 * HOUR), force: true });
      expect(again.claimed).toBe(true);
      expect(again.run.attempts).toBe(1);
      expect(again.run.deliveries).toEqual([]);
    });

    it('prune goes by when a run was recorded, not by its slot: a backfilled old slot stays', async () => {
      const old = new Date(T0.getTime() - 100 * 24 * HOUR);
      await runSlot('daily', at(HOUR), 'succeeded', { n: 1 });
      // Run today for a slot 100 days ago.
      const c = await store.claim('daily', old, { owner: 'a', leaseMs: LEASE, now: at(2 * HOUR) });
      await store.finish(c.run.id, { status: 'failed', now: at(2 * HOUR + 1), error: { code: 'E_SOURCE', message: 'x' } });
      expect(await store.prune({ keepRuns: 100, olderThan: at(-24 * HOUR) })).toBe(0);
      expect((await store.getRun('daily', old))?.status).toBe('failed');
      // Once it was recorded before the cut-off, it goes.
      expect(await store.prune({ keepRuns: 100, olderThan: at(3 * HOUR) })).toBe(1);
      expect(await store.getRun('daily', old)).toBeNull();
    });

    it('an interrupted run is claimed again by anyone at once and keeps its deliveries', async () => {
      const a = await store.claim('daily', T0, { owner: 'a', leaseMs: LEASE, now: T0 });
      await store.recordDelivery(a.run.id, delivery('chat:42#0', 1001));
      await store.finish(a.run.id, { status: 'interrupted', now: at(1_000), reason: 'shutdown' });
      expect(await store.getRun('daily', T0)).toMatchObject({ status: 'interrupted', reason: 'shutdown' });
      expect(await store.consecutiveFailures('daily')).toBe(0);
      // Well within the old lease, without retryFailed: the claim was handed back.
      const b = await store.claim('daily', T0, { owner: 'b', leaseMs: LEASE, now: at(2_000) });
      expect(b.claimed).toBe(true);
      expect(b.run).toMatchObject({ status: 'running', owner: 'b', attempts: 2 });
      expect(b.run.deliveries.map((d) => d.messageId)).toEqual([1001]);
    });

    it('only the newest success keeps metrics, so the ledger does not grow with the data', async () => {
      const big = { rows: 'x'.repeat(200_000) };
      for (let i = 0; i < 5; i++) await runSlot('daily', at(i * HOUR), 'succeeded', big);
      const runs = await store.history({ job: 'daily', limit: 10 });
      expect(runs.map((r) => r.metrics !== null)).toEqual([true, false, false, false, false]);
      expect((await store.lastSuccess('daily'))?.metrics).toEqual(big);
      // A later failure does not drop the success's metrics.
      await runSlot('daily', at(5 * HOUR), 'failed');
      expect((await store.lastSuccess('daily'))?.metrics).toEqual(big);
    });

    it('migrations are idempotent and safe when several connections open at once', async () => {
      const c = await store.claim('daily', T0, { owner: 'a', leaseMs: LEASE, now: T0 });
      await store.migrate();
      const [x, y] = await Promise.all([fx.open(), fx.open()]);
      await Promise.all([x.migrate(), y.migrate()]);
      expect((await y.getRun('daily', T0))?.id).toBe(c.run.id);
      expect((await x.claim('daily', T0, { owner: 'b', leaseMs: LEASE, now: T0 })).claimed).toBe(false);

      // Three processes starting at once on an EMPTY ledger: each migration runs once, nobody fails.
      const fresh = await factory();
      try {
        const stores = await Promise.all([fresh.open(), fresh.open(), fresh.open()]);
        const claims = await Promise.all(stores.map((s, i) => s.claim('daily', T0, { owner: `p${i}`, leaseMs: LEASE, now: T0 })));
        expect(claims.filter((c) => c.claimed)).toHaveLength(1);
      } finally {
        await fresh.dispose();
      }
    });

    it('timestamps round-trip exactly (UTC, millisecond precision)', async () => {
      const slot = new Date('2024-02-29T23:59:59.999Z');
      const now = new Date('2024-03-01T00:00:00.001Z');
      const c = await store.claim('daily', slot, { owner: 'a', leaseMs: 1_234, now });
      await store.recordDelivery(c.run.id, delivery('k', 1, new Date('2024-03-01T00:00:00.457Z')));
      await store.finish(c.run.id, { status: 'succeeded', now: new Date('2024-03-01T00:00:01.789Z') });
      const other = await fx.open();
      const run = (await other.getRun('daily', new Date(slot.getTime())))!;
      expect(run.slot).toBeInstanceOf(Date);
      expect(run.slot.toISOString()).toBe('2024-02-29T23:59:59.999Z');
      expect(run.startedAt.toISOString()).toBe('2024-03-01T00:00:00.001Z');
      expect(run.leaseUntil.toISOString()).toBe('2024-03-01T00:00:01.235Z');
      expect(run.finishedAt?.toISOString()).toBe('2024-03-01T00:00:01.789Z');
      expect(run.deliveries[0]!.deliveredAt.toISOString()).toBe('2024-03-01T00:00:00.457Z');
      // A slot 1 ms away is a different slot.
      expect(await other.getRun('daily', new Date(slot.getTime() + 1))).toBeNull();
      const far = new Date('2099-12-31T23:00:00.000Z');
      await store.claim('daily', far, { owner: 'a', leaseMs: LEASE, now: far });
      expect((await other.lastRun('daily'))?.slot.toISOString()).toBe(far.toISOString());
    });

    it('ping works; close is idempotent and later calls fail with E_STATE', async () => {
      await store.ping();
      await store.close();
      await store.close();
      await expect(store.ping()).rejects.toMatchObject({ code: 'E_STATE' });
      await expect(store.getFlag('x')).rejects.toMatchObject({ code: 'E_STATE' });
    });
  });
}
