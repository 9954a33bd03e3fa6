/**
 * The `run` daemon as a child process against a real sandbox, on a seconds schedule: it fires
 * on time, stops cleanly on SIGTERM, survives a bad SIGHUP reload, picks up a good one, and
 * retries a failed run into exactly one delivery.
 */
import { describe, expect, it } from 'vitest';
import { cliEnv, countBySlot, ledgerSuite, logged, openLedger, slotOf, terminate, waitFor, waitStarted } from './helpers.js';

const STATE = `
state:
  url: sqlite:state/ledger.db
  lease: 10s
`;

function jobYaml(name: string, chat: number, extra = ''): string {
  return `
  - name: ${name}
    schedule: "*/2 * * * * *"
    timezone: UTC
    source: { type: static, data: { n: 1 } }
    template: ${name}.hbs
    target: { chat_id: ${chat} }${extra}`;
}

describe('the daemon (run)', () => {
  const suite = ledgerSuite();

  const daemon = () => suite.children.spawn(['run', '--log-format', 'json'], { cwd: suite.p.dir, env: cliEnv(suite.sandbox) });

  it('fires a job at its scheduled time and stops on SIGTERM with exit 0', async () => {
    suite.project(`version: 1\n${STATE}\njobs:${jobYaml('tick', 101)}\n`, { 'tick.hbs': 'tick slot={{slot}}\n' });
    const d = daemon();
    await waitStarted(d);
    const announced = logged(d, 'daemon started')[0]!.jobs as Array<{ job: string; next: string }>;
    expect(announced).toEqual([{ job: 'tick', next: expect.any(String) }]);
    const firstSlot = announced[0]!.next;
    expect(new Date(firstSlot).getUTCSeconds() % 2).toBe(0);

    // The announcement comes after start() launched what was already due, so a slot that came due
    // during start-up may be posted just before it; the announced slot is posted at (not before) its time.
    const msg = await waitFor(() => suite.sandbox.store.messages(101).find((m) => slotOf(m) === firstSlot), { what: 'the announced slot' });
    for (const m of suite.sandbox.store.messages(101)) expect(Date.parse(slotOf(m)!)).toBeGreaterThanOrEqual(Date.parse(firstSlot) - 2_000);
    const late = Date.parse(msg.created_at) - Date.parse(firstSlot);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(5_000);

    const exit = await terminate(d);
    expect(exit, d.stderr()).toEqual({ code: 0, signal: null });
    expect(logged(d, 'stopped')).toHaveLength(1);
    expect(logged(d, 'stopping: waiting for runs in flight')[0]!.signal).toBe('SIGTERM');
    for (const [slot, n] of countBySlot(suite.sandbox.store.messages(101))) expect(n, slot).toBe(1);
  });

  it('SIGHUP with a broken config keeps the old jobs running; a valid one swaps them', async () => {
    const p = suite.project(`version: 1\n${STATE}\njobs:${jobYaml('alpha', 101)}\n`, {
      'alpha.hbs': 'alpha slot={{slot}}\n',
      'beta.hbs': 'beta slot={{slot}}\n',
    });
    const d = daemon();
    await waitStarted(d);
    await waitFor(() => suite.sandbox.store.messages(101).length >= 1, { what: 'a first alpha message' });

    p.write('jobs.config.yaml', `version: 1\n${STATE}\njobs:${jobYaml('alpha', 101).replace('*/2 * * * * *', 'every blue moon')}\n`);
    d.child.kill('SIGHUP');
    const failed = await waitFor(() => logged(d, /reload failed/)[0], { what: 'the reload failure to be logged' });
    expect(String(failed.error)).toMatch(/every blue moon/);
    expect(String(failed.error)).toContain('jobs.config.yaml');
    const failedAt = Date.parse(String(failed.time));
    // Still alive and still posting the old job.
    await waitFor(() => suite.sandbox.store.messages(101).some((m) => Date.parse(slotOf(m)!) > failedAt), {
      what: 'alpha to keep posting after the failed reload',
    });
    expect(d.child.exitCode).toBeNull();

    p.write('jobs.config.yaml', `version: 1\n${STATE}\njobs:${jobYaml('beta', 102)}\n`);
    d.child.kill('SIGHUP');
    const reloaded = await waitFor(() => logged(d, 'configuration reloaded')[0], { what: 'the reload to be logged' });
    expect(reloaded.jobs).toBe(1);
    const reloadedAt = Date.parse(String(reloaded.time));
    await waitFor(() => suite.sandbox.store.messages(102).length >= 1, { what: 'the new job to post' });
    expect(suite.sandbox.store.messages(102)[0]!.content).toMatch(/^beta slot=/);

    const exit = await terminate(d);
    expect(exit.code, d.stderr()).toBe(0);
    // The old job has no slot after the reload; every slot of both jobs was posted once.
    expect(suite.sandbox.store.messages(101).filter((m) => Date.parse(slotOf(m)!) > reloadedAt)).toEqual([]);
    for (const chat of [101, 102]) for (const [slot, n] of countBySlot(suite.sandbox.store.messages(chat))) expect(n, `${chat} ${slot}`).toBe(1);
  });

  it('a failed run is retried after its backoff and delivered once (retries: 1, backoff: 1s)', async () => {
    const p = suite.project(
      `version: 1\npachca:\n  retry: { retries: 0 }\n${STATE}\njobs:${jobYaml('flaky', 101, '\n    retries: { count: 1, backoff: 1s }')}\n`,
      { 'flaky.hbs': 'flaky slot={{slot}}\n' },
    );
    // The first POST of the first slot gets a 500; the client does not retry it (retries: 0), the daemon does.
    suite.sandbox.faults.add({ kind: 'status', status: 500, method: 'POST', path: '/messages', times: 1 });
    const d = daemon();
    await waitStarted(d);
    const retrying = await waitFor(() => logged(d, 'run failed: retrying')[0], { what: 'the daemon to schedule a retry' });
    expect(retrying).toMatchObject({ job: 'flaky', attempt: 1, retryInMs: 1000 });
    const slot = String(retrying.slot);
    await waitFor(() => countBySlot(suite.sandbox.store.messages(101)).get(slot) === 1, { what: 'the retried slot to be delivered' });

    const exit = await terminate(d);
    expect(exit.code, d.stderr()).toBe(0);
    expect(countBySlot(suite.sandbox.store.messages(101)).get(slot)).toBe(1);
    const failedPosts = suite.sandbox.requests().filter((r) => r.endpoint === 'POST /messages' && r.status === 500);
    expect(failedPosts).toHaveLength(1);

    const ledger = await openLedger('sqlite:state/ledger.db', p);
    try {
      const run = await ledger.getRun('flaky', new Date(slot));
      expect(run).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
      expect(run!.deliveries).toHaveLength(1);
    } finally {
      await ledger.close();
    }
  });

  it('SIGTERM while catching up a missed slot waits for that run, then exits 0', async () => {
    suite.project(`version: 1\n${STATE}\njobs:${jobYaml('catchup', 101)}\n`, { 'catchup.hbs': 'catchup slot={{slot}}\n' });
    // First start: the job is seen (nothing to catch up), then stopped.
    const first = daemon();
    await waitStarted(first);
    expect((await terminate(first)).code).toBe(0);
    const stoppedAt = Date.now();
    // Let a slot pass while no daemon runs.
    await waitFor(() => Date.now() > stoppedAt + 2_100, { what: 'a slot to be missed', intervalMs: 100 });
    suite.sandbox.faults.add({ kind: 'delay', ms: 2_500, method: 'POST', path: '/messages' });

    const second = daemon();
    await waitFor(() => logged(second, 'catching up missed slots').length > 0 && suite.sandbox.faults.list().length === 0, {
      what: 'the catch-up run to be posting',
    });
    // Catch-up no longer holds back the schedule: the daemon is up while the catch-up run posts.
    expect(logged(second, 'daemon started')).toHaveLength(1);
    second.child.kill('SIGTERM');
    const exit = await second.exited;
    expect(exit, second.stderr()).toEqual({ code: 0, signal: null });
    expect(logged(second, 'stopped')).toHaveLength(1);
    // The held catch-up POST was let finish: exactly one message for the missed slot.
    const caught = logged(second, 'catching up missed slots')[0]!.running as string[];
    expect(caught).toHaveLength(1);
    expect(countBySlot(suite.sandbox.store.messages(101)).get(caught[0]!)).toBe(1);
  });
});
