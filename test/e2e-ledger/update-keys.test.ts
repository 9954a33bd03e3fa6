/**
 * `delivery: update` over a fan-out keyed by `key:`: a reordered list edits each item's own
 * message, and an edit that outgrows one message keeps the first part in place and continues in
 * its thread (and drops the continuation again when the content shrinks), instead of failing.
 */
import { describe, expect, it } from 'vitest';
import { cliEnv, ledgerSuite, runCli } from './helpers.js';

const SLOTS = ['2026-11-24T09:00:00+03:00', '2026-11-25T09:00:00+03:00', '2026-11-26T09:00:00+03:00', '2026-11-27T09:00:00+03:00'];

type Team = { team: string; value: number; lines?: string[] };
function config(teams: Team[]): string {
  return `
version: 1
state:
  url: sqlite:state/ledger.db
pachca:
  max_message_bytes: 1000
jobs:
  - name: board
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    delivery: update
    source: { type: static, data: { teams: ${JSON.stringify(teams)} } }
    for_each: metrics.teams
    key: item.team
    template: board.hbs
    target: { chat_id: 101 }
`;
}
const TEMPLATES = { 'board.hbs': 'Команда {{item.team}}: {{item.value}}\n{{#each item.lines}}\n{{this}}\n{{/each}}' };
const paragraph = (n: number) => `Строка ${n}: ${'длинный текст отчёта '.repeat(8)}`;

describe('delivery: update keyed by item', () => {
  const suite = ledgerSuite();
  const run = async (slot: string) => {
    const r = await runCli(['run-job', 'board', '--slot', slot], { cwd: suite.p.dir, env: cliEnv(suite.sandbox) });
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const byTeam = () => {
    const out = new Map<string, { id: number; content: string }>();
    for (const m of suite.sandbox.store.liveMessages(101)) out.set(/Команда (\S+):/.exec(m.content)![1]!, { id: m.id, content: m.content });
    return out;
  };

  it('a reordered for_each edits each item’s message; an overgrown edit continues in the thread, then shrinks back', async () => {
    const p = suite.project(config([{ team: 'A', value: 1 }, { team: 'B', value: 2 }, { team: 'C', value: 3 }]), TEMPLATES);
    await run(SLOTS[0]!);
    const first = byTeam();
    expect([...first.keys()].sort()).toEqual(['A', 'B', 'C']);

    p.write('jobs.config.yaml', config([{ team: 'C', value: 30 }, { team: 'A', value: 10 }, { team: 'B', value: 20 }]));
    await run(SLOTS[1]!);
    const second = byTeam();
    expect(suite.sandbox.store.messages(101)).toHaveLength(3);
    for (const [team, value] of [['A', 10], ['B', 20], ['C', 30]] as const) {
      expect(second.get(team)!.id, team).toBe(first.get(team)!.id);
      expect(second.get(team)!.content).toBe(`Команда ${team}: ${value}`);
    }

    // A's report outgrows one message (1000 bytes): the first part is edited in place, the rest goes to its thread.
    const lines = Array.from({ length: 6 }, (_, i) => paragraph(i + 1));
    p.write('jobs.config.yaml', config([{ team: 'A', value: 11, lines }, { team: 'B', value: 21 }, { team: 'C', value: 31 }]));
    await run(SLOTS[2]!);
    expect(suite.sandbox.store.messages(101)).toHaveLength(3);
    const a = suite.sandbox.store.message(first.get('A')!.id)!;
    expect(a.content).toMatch(/^Команда A: 11/);
    expect(a.thread).not.toBeNull();
    const continuation = suite.sandbox.store.liveMessages(a.thread!.chat_id);
    expect(continuation.length).toBeGreaterThanOrEqual(1);
    const whole = [a.content, ...continuation.map((m) => m.content)].join('\n');
    for (const l of lines) expect(whole).toContain(l.trim());

    // Short again: the continuation is removed, the first message stays.
    p.write('jobs.config.yaml', config([{ team: 'A', value: 12 }, { team: 'B', value: 22 }, { team: 'C', value: 32 }]));
    await run(SLOTS[3]!);
    expect(suite.sandbox.store.message(first.get('A')!.id)!.content).toBe('Команда A: 12');
    expect(suite.sandbox.store.liveMessages(a.thread!.chat_id)).toHaveLength(0);
    expect(suite.sandbox.store.messages(101)).toHaveLength(3);
  });

  it('key without for_each, and two items with one key, are refused', async () => {
    const p = suite.project(config([{ team: 'A', value: 1 }, { team: 'A', value: 2 }]), TEMPLATES);
    const dup = await runCli(['run-job', 'board', '--slot', SLOTS[0]!], { cwd: p.dir, env: cliEnv(suite.sandbox) });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/key: "item\.team" is "A" for more than one item/);
    expect(suite.sandbox.store.messages(101)).toHaveLength(0);
    p.write('jobs.config.yaml', config([]).replace('    for_each: metrics.teams\n', ''));
    const v = await runCli(['validate'], { cwd: p.dir, env: cliEnv(suite.sandbox) });
    expect(v.code).toBe(2);
    expect(v.stderr + v.stdout).toMatch(/`key` names the items of `for_each`/);
  });
});
