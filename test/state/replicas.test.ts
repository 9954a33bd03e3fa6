/** Replica heartbeats for a shared token budget, over both ledgers, and the share rule. */
import { afterEach, describe, expect, it } from 'vitest';
import { shareFor } from '../../src/pachca/index.js';
import { closeTestStores, LEDGER_KINDS, openTestStore } from '../helpers/stores.js';

afterEach(closeTestStores);
const open = (kind: 'sqlite' | 'postgres') => openTestStore(kind, 't_rep');

const t0 = new Date('2026-12-02T09:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe.each(LEDGER_KINDS)('replica heartbeats (%s)', (kind) => {
  it('counts the sending and the live processes of one group; the dead and the gone stop counting', async () => {
    const s = await open(kind);
    expect(await s.replicaBeat('tok', 'a', 'active', t0, 3_000)).toEqual({ active: 1, alive: 1 });
    expect(await s.replicaBeat('tok', 'b', 'idle', at(100), 3_000)).toEqual({ active: 1, alive: 2 });
    expect(await s.replicaBeat('tok', 'c', 'active', at(200), 3_000)).toEqual({ active: 2, alive: 3 });
    // Another token is another budget.
    expect(await s.replicaBeat('other', 'a', 'active', at(200), 3_000)).toEqual({ active: 1, alive: 1 });
    // c leaves; a stops beating (killed) and is not counted once its beat is older than the ttl.
    await s.replicaBeat('tok', 'c', 'gone', at(300), 3_000);
    expect(await s.replicaBeat('tok', 'b', 'active', at(3_500), 3_000)).toEqual({ active: 1, alive: 1 });
  });
});

describe('shareFor', () => {
  it.each([
    [true, { active: 1, alive: 3 }, 1],
    [true, { active: 3, alive: 3 }, 1 / 3],
    [false, { active: 1, alive: 3 }, 1 / 3],
    [false, { active: 0, alive: 1 }, 1],
    [true, { active: 0, alive: 0 }, 1],
  ])('sending %s, %o → %d', (self, counts, share) => {
    expect(shareFor(self, counts)).toBeCloseTo(share, 10);
  });
});
