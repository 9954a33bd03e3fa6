/**
 * Built daemons on one PostgreSQL ledger and one token share a big DM fan-out (issue 17):
 * - a scheduled slot that every daemon fires: one claims it, the others deliver chunks of it;
 *   every user gets exactly one DM, more than one daemon delivered, and the server never saw more
 *   than its token ceiling plus burst in any second;
 * - a forced re-run (`run-job --slot S --force`) while the daemons are up: it is not helped (the
 *   daemons help only slots they fire themselves; the token's ceiling, not the process, bounds
 *   a fan-out), and it re-posts to every user exactly once; killed with -9 mid-way, a daemon's
 *   sweep takes it over and the run still ends with exactly one re-posted DM per user.
 * Correctness only: the timed variant is bench/dm-fanout.mjs (`npm run bench -- replicas`).
 */
import { renameSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../src/sandbox/index.js';
import type { StateStore } from '../../src/state/types.js';
import type { Spawned } from '../helpers/project.js';
import { PG, cliEnv, dmFanoutConfig, ledgerSuite, logged, openLedger, peopleCsv, pgUrl, runCli, slotOf, terminate, waitFor, waitStarted } from './helpers.js';

const USERS = 450;
const DAEMONS = 3;
/** The server's token-wide limit (Pachca's documented ~50 req/s, one second of burst). */
const CEILING = 50;
const BURST = 50;
const FIRST_USER = 7_000;

/** The job; `schedule` is every 10 s for the scheduled slot, daily for the forced re-runs (no slot of its own meanwhile). */
const config = (schedule: string) => dmFanoutConfig(schedule, ['catch_up: none']);
const HEADER = peopleCsv(0, FIRST_USER);
const FULL = peopleCsv(USERS, FIRST_USER);

if (!PG) console.warn('test/e2e-ledger/fanout-daemons-pg.test.ts: SKIPPED — PACHCA_DIGEST_TEST_PG is not set (scripts/start-postgres.sh prints a URL)');

describe.skipIf(!PG)('daemons on one PostgreSQL ledger share a DM fan-out', () => {
  const suite = ledgerSuite({
    users: Array.from({ length: USERS }, (_, i) => ({ id: FIRST_USER + i, first_name: `Имя${i}`, last_name: 'Тестов', nickname: `u${i}` })),
    rateLimits: { token: { perSecond: CEILING, burst: BURST } },
    // Every request of both runs and the daemons' beats stay in the log the rate is counted from.
    requestLogSize: 50_000,
  });
  let ledger: StateStore | undefined;
  let env: Record<string, string | undefined> = {};

  async function setup(schedule: string): Promise<void> {
    const sb = suite.sandbox;
    const p = suite.project(config(schedule), { 't.hbs': 'Личный отчёт для {{item.name}}: slot={{slot}}\n' });
    p.write('people.csv', HEADER);
    const url = pgUrl(suite.pgSchema('fanout_daemons'));
    ledger = await openLedger(url, p);
    await ledger.migrate();
    env = cliEnv(sb, { PACHCA_DIGEST_STATE: url });
  }

  /** The recipients' list, replaced in one rename so a run never reads half of it. */
  function writeList(text: string): void {
    const p = suite.p;
    p.write('people.next.csv', text);
    renameSync(p.path('people.next.csv'), p.path('people.csv'));
  }

  async function startDaemons(): Promise<Spawned[]> {
    const ds = Array.from({ length: DAEMONS }, () => suite.children.spawn(['run', '--log-format', 'json'], { cwd: suite.p.dir, env }));
    await Promise.all(ds.map((d) => waitStarted(d, 30_000)));
    return ds;
  }

  /** slot → user → live DMs carrying that slot. */
  function perSlotUser(): Map<string, Map<number, number>> {
    const out = new Map<string, Map<number, number>>();
    for (const m of suite.sandbox.store.messages() as StoredMessage[]) {
      if (m.deleted_at !== null) continue;
      expect(m.entity_type).toBe('user');
      const slot = slotOf(m)!;
      const users = out.get(slot) ?? new Map<number, number>();
      users.set(m.entity_id, (users.get(m.entity_id) ?? 0) + 1);
      out.set(slot, users);
    }
    return out;
  }

  /** Users of `slot` that did not get exactly `n` DMs of it (empty: every user exactly n). */
  function notExactly(slot: string, n: number): Array<[number, number]> {
    const users = perSlotUser().get(slot) ?? new Map<number, number>();
    const off: Array<[number, number]> = [];
    for (let i = 0; i < USERS; i++) {
      const got = users.get(FIRST_USER + i) ?? 0;
      if (got !== n) off.push([FIRST_USER + i, got]);
    }
    return off;
  }

  /** The busiest wall-clock second of the token as the server counted it (every request, 429s included), and the 429s. */
  function serverRate(): { maxPerSecond: number; requests: number; limited: number } {
    const counts = new Map<number, number>();
    const log = suite.sandbox.requests();
    for (const e of log) {
      const s = Math.floor(Date.parse(e.time) / 1000);
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    return { maxPerSecond: Math.max(0, ...counts.values()), requests: log.length, limited: log.filter((e) => e.status === 429).length };
  }

  /** What one process delivered of `slot`'s fan-out: as its claimant (the run's message ids) or as a helper. */
  function deliveredBy(s: Spawned, slot: string): number {
    const own = logged(s, 'run succeeded').filter((l) => l.slot === slot && l.job === 'personal');
    const helped = logged(s, 'delivered part of a fan-out another replica claimed').filter((l) => l.slot === slot);
    return own.reduce((n, l) => n + (l.messageIds as number[]).length, 0) + helped.reduce((n, l) => n + Number(l.messages), 0);
  }

  async function stopAll(ds: Spawned[]): Promise<void> {
    const exits = await Promise.all(ds.map((d) => terminate(d, 20_000)));
    for (const [i, e] of exits.entries()) expect(e, ds[i]!.stderr().slice(-2000)).toEqual({ code: 0, signal: null });
  }

  it('a scheduled slot: every user exactly once, several daemons delivered, the server never above its ceiling + burst', async () => {
    // Every 10 s; the list is empty until the test fills it, so the slots before that skip ("no items").
    await setup('*/10 * * * * *');
    const ds = await startDaemons();
    // Every daemon is watching now: the next slot after the list is filled is fired by all of them.
    writeList(FULL);
    // The claimant published its plan (helpers render from it, not from the file): later slots find the list empty again.
    const slot = await waitFor(
      async () => {
        for (const r of await ledger!.history({ job: 'personal', limit: 10 })) {
          if (r.status === 'running' && (await ledger!.fanout.state('personal', r.slot))?.fanout) return r.slot.toISOString();
          if (r.status === 'succeeded') return r.slot.toISOString();
        }
        return null;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'a slot with the full list to be claimed and published' },
    );
    writeList(HEADER);
    await waitFor(async () => (await ledger!.getRun('personal', new Date(slot)))?.status === 'succeeded', { timeoutMs: 120_000, intervalMs: 200, what: `slot ${slot} to succeed` });
    await stopAll(ds);

    expect(notExactly(slot, 1)).toEqual([]);
    // Only that slot had recipients (another one, had it read the full list, would still be checked).
    for (const s of perSlotUser().keys()) expect(notExactly(s, 1), `slot ${s}`).toEqual([]);
    const run = await ledger!.getRun('personal', new Date(slot));
    expect(run?.deliveries).toHaveLength(USERS);
    const parts = ds.map((d) => deliveredBy(d, slot));
    const rate = serverRate();
    console.log(`fanout-daemons scheduled slot: split ${JSON.stringify(parts)}, server ${JSON.stringify(rate)}`);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(USERS);
    expect(parts.filter((n) => n > 0).length).toBeGreaterThan(1);
    // Together within the one token's limit: a bucket of CEILING/s holding BURST admits at most their sum in a second.
    expect(rate.maxPerSecond).toBeLessThanOrEqual(CEILING + BURST);
    expect(rate.limited).toBeLessThanOrEqual(Math.ceil(rate.requests * 0.05));
  }, 240_000);

  it.each(['runs to the end', 'is killed with -9 mid-way'] as const)('a forced re-run while the daemons are up %s: every user gets exactly one more DM', async (how) => {
    // Daily at midnight (within starting_deadline all day): today's slot ran once before the daemons started.
    await setup('0 0 * * *');
    const midnight = new Date();
    midnight.setUTCHours(0, 0, 0, 0);
    const slot = midnight.toISOString();
    writeList(FULL);
    const first = await runCli(['run-job', 'personal', '--slot', slot], { cwd: suite.p.dir, env, timeoutMs: 120_000 });
    expect(first.code, first.stderr.slice(-2000)).toBe(0);
    expect(notExactly(slot, 1)).toEqual([]);
    const ds = await startDaemons();
    // A re-run is forced well after the first run: a takeover of it looks for the re-run's posts from when
    // it began, less the clock skew both sides allow (2 × 5 s), and the first run's posts carry the same texts.
    const firstPosted = Math.max(...suite.sandbox.store.messages().map((m) => Date.parse(m.created_at)));
    await waitFor(() => Date.now() > firstPosted + 12_000, { timeoutMs: 30_000, intervalMs: 200, what: "the first run's posts to age out of the re-check's window" });

    const forced = suite.children.spawn(['run-job', 'personal', '--slot', slot, '--force', '--log-format', 'json'], { cwd: suite.p.dir, env });
    if (how === 'runs to the end') {
      const exit = await forced.exited;
      expect(exit.code, forced.stderr().slice(-2000)).toBe(0);
      expect(deliveredBy(forced, slot)).toBe(USERS);
    } else {
      await waitFor(
        () => {
          if (forced.child.exitCode !== null) throw new Error(`the forced run ended before it was killed:\n${forced.stderr().slice(-2000)}`);
          return suite.sandbox.store.messages().length >= USERS + (2 * USERS) / 3;
        },
        { timeoutMs: 120_000, what: 'two thirds of the forced re-run delivered' },
      );
      forced.child.kill('SIGKILL');
      expect((await forced.exited).signal).toBe('SIGKILL');
      // A daemon's sweep finds the run's lease over and takes it over (another daemon may help with its chunks).
      await waitFor(async () => (await ledger!.getRun('personal', new Date(slot)))?.status === 'succeeded', {
        timeoutMs: 120_000,
        intervalMs: 200,
        what: 'a daemon to take the forced run over and finish it',
      });
    }
    await stopAll(ds);

    // The first run's DM and exactly one of the re-run: none missing, none twice.
    const off = notExactly(slot, 2);
    if (off.length > 0) console.log(`fanout-daemons forced re-run (${how}): ${off.length} user(s) without exactly 2 DMs, e.g. ${JSON.stringify(off.slice(0, 5))}`);
    expect(off).toEqual([]);
    const run = await ledger!.getRun('personal', new Date(slot));
    expect(run?.status).toBe('succeeded');
    expect(run?.deliveries).toHaveLength(USERS);
    expect(run?.forcedAt, 'the ledger remembers the re-run was forced').toBeInstanceOf(Date);
    const parts = ds.map((d) => deliveredBy(d, slot));
    const rate = serverRate();
    console.log(`fanout-daemons forced re-run (${how}): daemons delivered ${JSON.stringify(parts)}, server ${JSON.stringify(rate)}`);
    // A forced run is the forcing process's own: the daemons do not join it while it is alive.
    if (how === 'runs to the end') expect(parts).toEqual(Array(DAEMONS).fill(0));
    else expect(parts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(rate.maxPerSecond).toBeLessThanOrEqual(CEILING + BURST);
  }, 300_000);
});
