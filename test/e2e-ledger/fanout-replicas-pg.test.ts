/**
 * Three `run-due` processes on one PostgreSQL ledger share one big DM fan-out: one claims the
 * slot and publishes it in chunks, the others find the slot running and deliver chunks of it into
 * the same run. Every user gets exactly one DM, and each process delivered some of them. Killing
 * one process with -9 mid-way (a helper, or the claimant) still ends with every user served
 * exactly once: a helper's lapsed chunk is taken over and re-checked; the claimant's run is taken
 * over by the next pass. Correctness only: the timed variant is bench/dm-fanout.mjs (`npm run bench -- replicas`).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import type { StateStore } from '../../src/state/types.js';
import type { Spawned } from '../helpers/project.js';
import { Children, PG, TOKEN, cliEnv, dmFanoutConfig, dropPgSchema, logged, openLedger, peopleCsv, pgSchema, pgUrl, project, runCli, waitFor } from './helpers.js';
import type { Project } from '../helpers/project.js';

const USERS = 900;
const REPLICAS = 3;

// Daily at 00:00 UTC with a 25 h deadline: today's midnight is due for every pass of the day.
const CONFIG = dmFanoutConfig('0 0 * * *');
const csv = peopleCsv(USERS, 7_000);

function today(): Date {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  return d;
}

/** What one process logged it delivered: as the claimant (its run's message ids) or as a helper. */
function deliveredBy(s: Spawned): number {
  const own = logged(s, 'run succeeded')[0];
  if (own) return (own.messageIds as number[]).length;
  const helped = logged(s, 'delivered part of a fan-out another replica claimed')[0];
  return helped ? Number(helped.messages) : 0;
}

describe.skipIf(!PG)('a DM fan-out shared by three run-due processes on one PostgreSQL ledger', () => {
  let sandbox: Sandbox;
  const children = new Children();
  let p: Project | undefined;
  let ledger: StateStore | undefined;
  let schema: string | undefined;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    const users = Array.from({ length: USERS }, (_, i) => ({ id: 7_000 + i, first_name: `Имя${i}`, last_name: 'Тестов', nickname: `u${i}` }));
    // The token-wide ceiling (Pachca's ~50/s) is what the processes share; each DM is its own chat.
    sandbox = await startSandbox({ tokens: [TOKEN], users });
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  afterEach(async () => {
    await children.killAll();
    await ledger?.close();
    ledger = undefined;
    if (schema) await dropPgSchema(schema);
    p?.cleanup();
    sandbox.reset();
  });

  async function setup(): Promise<void> {
    p = project(CONFIG, { 't.hbs': 'Личный отчёт для {{item.name}}: slot={{slot}}\n' });
    p.write('people.csv', csv);
    schema = pgSchema('fanout_replicas');
    ledger = await openLedger(pgUrl(schema), p);
    await ledger.migrate();
    env = cliEnv(sandbox, { PACHCA_DIGEST_STATE: pgUrl(schema) });
  }

  function startAll(): Spawned[] {
    return Array.from({ length: REPLICAS }, () => children.spawn(['run-due', '--log-format', 'json'], { cwd: p!.dir, env }));
  }

  function perUser(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const m of sandbox.store.messages()) {
      expect(m.entity_type).toBe('user');
      counts.set(m.entity_id, (counts.get(m.entity_id) ?? 0) + 1);
    }
    return counts;
  }

  async function expectExactlyOnce(): Promise<void> {
    const counts = perUser();
    expect(counts.size).toBe(USERS);
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    const run = await ledger!.getRun('personal', today());
    expect(run?.status).toBe('succeeded');
    expect(run?.deliveries).toHaveLength(USERS);
    expect(new Set(run!.deliveries.map((d) => d.messageId)).size).toBe(USERS);
  }

  /** The pid of the process holding the slot's claim (owner = host:pid:random). */
  async function claimantPid(): Promise<number> {
    let pid = 0;
    await waitFor(
      async () => {
        const state = await ledger!.fanout.state('personal', today());
        if (!state?.fanout) return false;
        pid = Number(state.owner.split(':').at(-2));
        return true;
      },
      { timeoutMs: 60_000, what: 'the fan-out to be published' },
    );
    return pid;
  }

  it('splits the fan-out: every user exactly once, every process delivered part of it', async () => {
    await setup();
    const procs = startAll();
    const exits = await Promise.all(procs.map((s) => s.exited));
    for (const [i, e] of exits.entries()) expect(e.code, procs[i]!.stderr().slice(-2000)).toBe(0);
    await expectExactlyOnce();
    const parts = procs.map(deliveredBy);
    console.log(`fanout-replicas split: ${JSON.stringify(parts)}`);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(USERS);
    for (const [i, n] of parts.entries()) expect(n, procs[i]!.stderr().slice(-2000)).toBeGreaterThan(0);
    // One claimant finished the run; the others said they helped.
    expect(procs.filter((s) => logged(s, 'run succeeded').length > 0)).toHaveLength(1);
    expect(procs.filter((s) => /in-progress \(.*this process delivered \d+ of its messages/.test(s.stderr()))).toHaveLength(REPLICAS - 1);
  }, 240_000);

  it.each(['helper', 'claimant'] as const)('kill -9 of the %s mid-way: every user still exactly once', async (victim) => {
    await setup();
    const procs = startAll();
    const owner = await claimantPid();
    const target = procs.find((s) => (victim === 'claimant' ? s.child.pid === owner : s.child.pid !== owner))!;
    await waitFor(
      () => {
        if (target.child.exitCode !== null) throw new Error(`the ${victim} exited early:\n${target.stderr()}`);
        return sandbox.store.messages().length >= USERS / 3;
      },
      { timeoutMs: 120_000, what: 'a third of the users served' },
    );
    target.child.kill('SIGKILL');
    expect((await target.exited).signal).toBe('SIGKILL');
    const rest = procs.filter((s) => s !== target);
    for (const s of rest) expect((await s.exited).code, s.stderr().slice(-2000)).toBe(0);
    if (victim === 'claimant') {
      // The helpers delivered what they could; the next pass takes the run over once its lease is out.
      await waitFor(
        async () => {
          const r = await runCli(['run-due'], { cwd: p!.dir, env, timeoutMs: 120_000 });
          expect(r.code, r.stderr.slice(-2000)).toBe(0);
          return (await ledger!.getRun('personal', today()))?.status === 'succeeded';
        },
        { timeoutMs: 150_000, intervalMs: 500, what: 'a later pass to take the run over and finish it' },
      );
    }
    await expectExactlyOnce();
  }, 300_000);
});
