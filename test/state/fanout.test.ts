/**
 * The fan-out ledger (published plans, leased chunks) over both drivers: one contract. Chunks go
 * to one taker each, even when many take at once; a taker's lapsed lease lets another take the
 * chunk (marked as taken before); everything of a superseded claim stops matching.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeTestStores, LEDGER_KINDS, openTestStore } from '../helpers/stores.js';
import type { StateStore } from '../../src/state/index.js';

afterEach(closeTestStores);

const slot = new Date('2026-12-02T09:00:00Z');
const t0 = new Date('2026-12-02T09:00:05Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

async function claimed(s: StateStore, owner = 'owner') {
  const c = await s.claim('big', slot, { owner, leaseMs: 60_000, now: t0 });
  expect(c.claimed).toBe(true);
  return c.run;
}

describe.each(LEDGER_KINDS)('fan-out ledger (%s)', (kind) => {
  it('publishes a plan in chunks; each chunk goes to one taker; progress adds up', async () => {
    const s = await openTestStore(kind, 't_fan');
    const run = await claimed(s);
    expect(await s.fanout.state('big', slot)).toMatchObject({ runId: run.id, status: 'running', fanout: null });
    expect(await s.fanout.publish(run.id, { items: 1_050, chunkSize: 100, plan: '{"metrics":{"n":1}}', now: t0 })).toBe(true);
    expect((await s.fanout.state('big', slot))?.fanout).toEqual({ items: 1_050, chunkSize: 100, chunks: 11 });
    expect(await s.fanout.plan(run.id)).toBe('{"metrics":{"n":1}}');

    // Many takers at once (replicas polling together): every chunk once, none twice.
    const takes = await Promise.all(Array.from({ length: 16 }, (_, i) => s.fanout.take(run.id, `r${i % 3}`, 30_000, t0)));
    const got = takes.filter((t) => t !== null);
    expect(got.map((t) => t!.chunk).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(got.every((t) => t!.takes === 1)).toBe(true);
    const last = got.find((t) => t!.chunk === 10)!;
    expect(last).toMatchObject({ from: 1_000, to: 1_050 });
    expect(await s.fanout.take(run.id, 'late', 30_000, t0)).toBeNull();

    for (const t of got) {
      const owner = `r${takes.indexOf(t) % 3}`;
      expect(await s.fanout.complete(run.id, t!.chunk, owner, { sent: t!.to - t!.from })).toBe(true);
    }
    expect(await s.fanout.progress(run.id, t0)).toMatchObject({ chunks: 11, open: 0, taken: 0, expired: 0, done: 11, failed: 0, sent: 1_050, error: null });
  });

  it('a lapsed chunk lease: another takes it over (taken twice), the first taker can no longer renew or complete it', async () => {
    const s = await openTestStore(kind, 't_fan');
    const run = await claimed(s);
    await s.fanout.publish(run.id, { items: 30, chunkSize: 10, plan: '{}', now: t0 });
    const a = (await s.fanout.take(run.id, 'a', 1_000, t0))!;
    expect(await s.fanout.renew(run.id, a.chunk, 'a', at(2_000))).toBe(true);
    const b = (await s.fanout.take(run.id, 'b', 1_000, at(100)))!;
    expect(b.chunk).not.toBe(a.chunk);
    // b stops renewing (killed): after its lease, its chunk is the next one taken.
    expect(await s.fanout.progress(run.id, at(1_500))).toMatchObject({ open: 1, taken: 1, expired: 1 });
    const again = (await s.fanout.take(run.id, 'c', 1_000, at(1_500)))!;
    expect(again).toMatchObject({ chunk: b.chunk, takes: 2 });
    const open = (await s.fanout.take(run.id, 'c', 1_000, at(1_600)))!;
    expect(open.takes).toBe(1);
    expect(await s.fanout.take(run.id, 'd', 1_000, at(1_600))).toBeNull();
    expect(await s.fanout.renew(run.id, b.chunk, 'b', at(5_000))).toBe(false);
    expect(await s.fanout.complete(run.id, b.chunk, 'b', { sent: 10 })).toBe(false);
    expect(await s.fanout.complete(run.id, again.chunk, 'c', { sent: 0, error: { code: 'E_DELIVERY', message: 'chat 5 is gone' } })).toBe(true);
    expect(await s.fanout.progress(run.id, at(1_700))).toMatchObject({ failed: 1, error: { code: 'E_DELIVERY', message: 'chat 5 is gone' } });
  });

  it('a takeover of the run (a new claim) supersedes the old plan; a finished run has no chunks to take', async () => {
    const s = await openTestStore(kind, 't_fan');
    const first = await claimed(s);
    await s.fanout.publish(first.id, { items: 20, chunkSize: 10, plan: '{"v":1}', now: t0 });
    const held = (await s.fanout.take(first.id, 'helper', 1_000, t0))!;
    // The owner died: its run lease runs out and another process claims the slot.
    const second = await s.claim('big', slot, { owner: 'new', leaseMs: 60_000, now: at(61_000) });
    expect(second.claimed).toBe(true);
    expect((await s.fanout.state('big', slot))?.fanout).toBeNull();
    expect(await s.fanout.take(first.id, 'helper', 1_000, at(61_000))).toBeNull();
    expect(await s.fanout.renew(first.id, held.chunk, 'helper', at(62_000))).toBe(false);
    expect(await s.fanout.plan(first.id)).toBeNull();
    // The old claim cannot publish any more; the new one republishes from scratch.
    expect(await s.fanout.publish(first.id, { items: 20, chunkSize: 10, plan: '{}', now: at(61_000) })).toBe(false);
    expect(await s.fanout.publish(second.run.id, { items: 20, chunkSize: 10, plan: '{"v":2}', now: at(61_000) })).toBe(true);
    expect(await s.fanout.progress(second.run.id, at(61_000))).toMatchObject({ chunks: 2, open: 2 });

    await s.finish(second.run.id, { status: 'succeeded', now: at(62_000) });
    expect(await s.fanout.take(second.run.id, 'late', 1_000, at(62_000))).toBeNull();
    await s.fanout.drop(second.run.id);
    expect(await s.fanout.plan(second.run.id)).toBeNull();
  });
});
