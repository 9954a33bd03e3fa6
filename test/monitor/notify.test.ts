import { describe, expect, it } from 'vitest';
import { decideNotify, type NotifyPolicy, type Observation } from '../../src/monitor/index.js';

function run(policy: NotifyPolicy, seq: Observation[], restartAfter?: number): boolean[] {
  let last: Observation | null = null;
  return seq.map((o, i) => {
    const d = decideNotify(policy, o, last);
    last = restartAfter === i ? (JSON.parse(JSON.stringify(o)) as Observation) : o;
    return d.post;
  });
}
const w = (active: boolean): Observation => ({ active, key: null });
const k = (key: string[]): Observation => ({ active: null, key: JSON.stringify(key) });

describe('notify policy', () => {
  it('always posts', () => expect(run('always', [w(false), w(false), w(true)])).toEqual([true, true, true]));
  it('when_true posts while the condition is true', () => expect(run('when_true', [w(false), w(true), w(true), w(false)])).toEqual([false, true, true, false]));
  it('on_change with when: posts on each transition, the first run only when true', () => {
    expect(run('on_change', [w(false), w(true), w(true), w(false), w(false), w(true)])).toEqual([false, true, false, true, false, true]);
    expect(run('on_change', [w(true), w(true)])).toEqual([true, false]);
  });
  it('on_change with change_key: posts when the set of failing services changes', () => {
    expect(run('on_change', [k(['api']), k(['api']), k(['api', 'db']), k(['api', 'db']), k([])])).toEqual([true, false, true, false, true]);
  });
  it('on_change survives a restart (the stored observation is compared)', () => {
    expect(run('on_change', [w(true), w(true), w(true)], 0)).toEqual([true, false, false]);
  });
  it('on_change with both: either one changing posts', () => {
    const o = (active: boolean, key: string): Observation => ({ active, key });
    expect(run('on_change', [o(true, 'a'), o(true, 'a'), o(true, 'b'), o(false, 'b')])).toEqual([true, false, true, true]);
  });
});
