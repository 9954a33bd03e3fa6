import { afterEach, describe, expect, it } from 'vitest';
import { closeTestStores, LEDGER_KINDS, openTestStore } from '../helpers/stores.js';

afterEach(closeTestStores);
const open = (kind: 'sqlite' | 'postgres') => openTestStore(kind, 't_int');

const kinds = LEDGER_KINDS;
const t0 = new Date('2026-12-01T10:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

describe.each(kinds)('interaction ledger (%s)', (kind) => {
  it('takes a key once; a released key can be taken again; a done key never', async () => {
    const l = (await open(kind)).interactions;
    expect(await l.take('event:1', 'a', 60_000, t0)).toBe(true);
    expect(await l.take('event:1', 'b', 60_000, t0)).toBe(false);
    await l.release('event:1', 'a');
    expect(await l.take('event:1', 'b', 60_000, t0)).toBe(true);
    await l.complete('event:1', 'b', t0);
    expect(await l.isDone('event:1')).toBe(true);
    expect(await l.take('event:1', 'c', 60_000, later(10 * 60_000))).toBe(false);
  });

  it('takes over a running key whose holder died (lease over)', async () => {
    const l = (await open(kind)).interactions;
    expect(await l.take('trigger:x', 'dead', 1_000, t0)).toBe(true);
    expect(await l.take('trigger:x', 'b', 1_000, later(500))).toBe(false);
    expect(await l.take('trigger:x', 'b', 1_000, later(2_000))).toBe(true);
  });

  it('concurrent takers: exactly one wins', async () => {
    const store = await open(kind);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.interactions.take('event:race', `o${i}`, 60_000, t0)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('keeps unsubscribes per job and user', async () => {
    const l = (await open(kind)).interactions;
    await l.setUnsubscribed('digest', 7, true, t0);
    await l.setUnsubscribed('digest', 7, true, t0);
    await l.setUnsubscribed('digest', 3, true, t0);
    await l.setUnsubscribed('other', 9, true, t0);
    expect(await l.isUnsubscribed('digest', 7)).toBe(true);
    expect(await l.isUnsubscribed('other', 7)).toBe(false);
    expect(await l.listUnsubscribed('digest')).toEqual([3, 7]);
    await l.setUnsubscribed('digest', 7, false, t0);
    expect(await l.listUnsubscribed('digest')).toEqual([3]);
  });

  it('the first acknowledgement of a message wins', async () => {
    const l = (await open(kind)).interactions;
    expect(await l.acknowledge({ messageId: 5, job: 'd', userId: 1, at: t0 })).toBe(true);
    expect(await l.acknowledge({ messageId: 5, job: 'd', userId: 2, at: later(1000) })).toBe(false);
    expect(await l.getAcknowledgement(5)).toEqual({ messageId: 5, job: 'd', userId: 1, at: t0 });
    expect(await l.getAcknowledgement(6)).toBeNull();
  });

  it('locks a message for one holder until unlocked or the lease ends', async () => {
    const l = (await open(kind)).interactions;
    expect(await l.lockMessage(9, 'a', 5_000, t0)).toBe(true);
    expect(await l.lockMessage(9, 'b', 5_000, later(1_000))).toBe(false);
    await l.unlockMessage(9, 'b');
    expect(await l.lockMessage(9, 'b', 5_000, later(1_000))).toBe(false);
    await l.unlockMessage(9, 'a');
    expect(await l.lockMessage(9, 'b', 5_000, later(1_000))).toBe(true);
    expect(await l.lockMessage(9, 'c', 5_000, later(10_000))).toBe(true);
  });

  it('prunes old handled keys only', async () => {
    const l = (await open(kind)).interactions;
    await l.take('event:old', 'a', 1000, t0);
    await l.complete('event:old', 'a', t0);
    await l.take('event:new', 'a', 1000, later(100_000));
    await l.complete('event:new', 'a', later(100_000));
    expect(await l.pruneHandled(later(50_000))).toBe(1);
    expect(await l.isDone('event:old')).toBe(false);
    expect(await l.isDone('event:new')).toBe(true);
  });
});
