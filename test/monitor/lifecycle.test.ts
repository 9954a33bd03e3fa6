import { describe, expect, it } from 'vitest';
import {
  acknowledgeMonitor,
  parseMonitorState,
  stepMonitor,
  withMessage,
  type MonitorSettings,
  type MonitorState,
} from '../../src/monitor/index.js';

const MIN = 60_000;

/** Runs a sequence of (minute, condition) observations; a posted alert gets message id 100, 101, … */
function simulate(
  seq: Array<[minute: number, active: boolean | 'ack']>,
  settings: MonitorSettings,
  opts: { restartAfter?: number } = {},
): string[] {
  let state: MonitorState | null = null;
  let nextId = 100;
  const out: string[] = [];
  seq.forEach(([minute, active], i) => {
    const now = minute * MIN;
    if (active === 'ack') {
      state = acknowledgeMonitor(state, 'ivan', now);
      out.push(`${minute}:ack`);
      return;
    }
    const step = stepMonitor(state, active, now, settings);
    state = step.state;
    for (const a of step.actions) {
      if (a.kind === 'post') state = withMessage(state, { id: nextId++, chatId: 1 });
      out.push(`${minute}:${a.kind}${a.kind === 'resolve' ? `(${a.durationMs / MIN}m)` : ''}#${state.message?.id ?? '-'}`);
    }
    // A restart: the next run sees only what the ledger stored.
    if (opts.restartAfter === i) state = parseMonitorState(JSON.stringify(state));
  });
  return out;
}

const plain: MonitorSettings = { forMs: 0, repeatMs: null };

describe('monitor lifecycle', () => {
  const cases: Array<{ name: string; seq: Array<[number, boolean | 'ack']>; settings?: MonitorSettings; restartAfter?: number; expected: string[] }> = [
    { name: 'stays quiet while false', seq: [[0, false], [5, false], [10, false]], expected: [] },
    {
      name: 'fires once, edits while true, resolves once',
      seq: [[0, false], [5, true], [10, true], [15, true], [20, false], [25, false]],
      expected: ['5:post#100', '10:edit#100', '15:edit#100', '20:resolve(15m)#100'],
    },
    {
      name: 'a new episode posts a new alert',
      seq: [[0, true], [5, false], [10, true], [15, false]],
      expected: ['0:post#100', '5:resolve(5m)#100', '10:post#101', '15:resolve(5m)#101'],
    },
    {
      name: 'for: damping — fires only after the condition held for 10 minutes, counted from its start',
      seq: [[0, true], [5, true], [10, true], [15, true], [20, false]],
      settings: { forMs: 10 * MIN, repeatMs: null },
      expected: ['10:post#100', '15:edit#100', '20:resolve(20m)#100'],
    },
    {
      name: 'flapping under for: posts nothing',
      seq: [[0, true], [5, false], [10, true], [15, false], [20, true], [25, false]],
      settings: { forMs: 10 * MIN, repeatMs: null },
      expected: [],
    },
    {
      name: 'flapping without for: one alert per episode, never two at once',
      seq: [[0, true], [1, false], [2, true], [3, false]],
      expected: ['0:post#100', '1:resolve(1m)#100', '2:post#101', '3:resolve(1m)#101'],
    },
    {
      name: 'repeat: a reminder every 30 minutes while firing',
      seq: [[0, true], [20, true], [30, true], [40, true], [60, true], [65, false]],
      settings: { forMs: 0, repeatMs: 30 * MIN },
      expected: ['0:post#100', '20:edit#100', '30:edit#100', '30:remind#100', '40:edit#100', '60:edit#100', '60:remind#100', '65:resolve(65m)#100'],
    },
    {
      name: 'acknowledged silences reminders but the alert still updates and resolves',
      seq: [[0, true], [10, 'ack'], [30, true], [60, true], [70, false]],
      settings: { forMs: 0, repeatMs: 30 * MIN },
      expected: ['0:post#100', '10:ack', '30:edit#100', '60:edit#100', '70:resolve(70m)#100'],
    },
    {
      name: 'acknowledging an alert that is not firing changes nothing',
      seq: [[0, 'ack'], [5, true], [40, true]],
      settings: { forMs: 0, repeatMs: 30 * MIN },
      expected: ['0:ack', '5:post#100', '40:edit#100', '40:remind#100'],
    },
    {
      name: 'restart while firing: the same message is edited, then resolved',
      seq: [[0, true], [5, true], [10, true], [15, false]],
      restartAfter: 1,
      expected: ['0:post#100', '5:edit#100', '10:edit#100', '15:resolve(15m)#100'],
    },
    {
      name: 'restart while pending: for: keeps counting from the first true',
      seq: [[0, true], [5, true], [10, true]],
      settings: { forMs: 10 * MIN, repeatMs: null },
      restartAfter: 0,
      expected: ['10:post#100'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(simulate(c.seq, c.settings ?? plain, c.restartAfter === undefined ? {} : { restartAfter: c.restartAfter })).toEqual(c.expected);
    });
  }

  it('a post that never got recorded is posted again, not edited', () => {
    const first = stepMonitor(null, true, 0, plain);
    expect(first.actions).toEqual([{ kind: 'post' }]);
    // The run failed before withMessage: the next run starts from the stored (firing, no message) state.
    const again = stepMonitor(first.state, true, MIN, plain);
    expect(again.actions).toEqual([{ kind: 'post' }]);
    const gone = stepMonitor(first.state, false, 2 * MIN, plain);
    expect(gone.actions).toEqual([]);
  });

  it('an unreadable stored state starts over', () => {
    expect(parseMonitorState('{"phase":"weird"}')).toBeNull();
    expect(parseMonitorState('not json')).toBeNull();
    expect(parseMonitorState(null)).toBeNull();
  });
});
