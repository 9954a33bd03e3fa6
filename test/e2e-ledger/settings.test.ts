/**
 * `pachca:` settings in jobs.config.yaml reach the API client of a real `run-job`: pacing
 * (`rate_limits`), retries (`retry.retries`) and timeouts (`timeouts.request`), each checked
 * against the sandbox's own request log rather than the test's clock.
 */
import { describe, expect, it } from 'vitest';
import type { RequestLogEntry } from '../../src/sandbox/index.js';
import { cliEnv, ledgerSuite, openLedger, runCli } from './helpers.js';
import { FIXED_SLOT_RETENTION } from '../helpers/retention.js';

const SLOT = '2026-11-24T09:00:00+03:00';

function config(pachca: string, job: string): string {
  return `
version: 1
${pachca}
state:
  url: sqlite:state/ledger.db
${FIXED_SLOT_RETENTION}
jobs:
${job}
`;
}

/** Four fan-out items, all to chat 101: one message-write bucket. */
const FANOUT = `
  - name: burst
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: static, data: { items: [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }] } }
    for_each: metrics.items
    template: item.hbs
    target: { chat_id: 101 }`;

const SINGLE = `
  - name: single
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: static, data: { n: 1 } }
    template: item.hbs
    target: { chat_id: 102 }`;

const TEMPLATES = { 'item.hbs': 'Пункт {{#if item}}{{item.n}}{{else}}{{metrics.n}}{{/if}}\n' };

describe('pachca: settings from the config reach the client', () => {
  const suite = ledgerSuite();

  const runJob = (job: string) => runCli(['run-job', job, '--slot', SLOT], { cwd: suite.p.dir, env: cliEnv(suite.sandbox), timeoutMs: 20_000 });
  const posts = (): RequestLogEntry[] => suite.sandbox.requests().filter((r) => r.endpoint === 'POST /messages');
  /** First to last POST /messages, by the sandbox's arrival timestamps. */
  const postSpreadMs = (): number => {
    const times = posts().map((r) => Date.parse(r.time));
    return Math.max(...times) - Math.min(...times);
  };

  it('rate_limits.message_write { per_second: 1, burst: 1 } spaces 4 messages to one chat over ≥ 3 s', async () => {
    suite.project(config('pachca:\n  rate_limits:\n    message_write: { per_second: 1, burst: 1 }', FANOUT), TEMPLATES);
    const r = await runJob('burst');
    expect(r.code, r.stderr).toBe(0);
    expect(suite.sandbox.store.messages(101).map((m) => m.content.trim()).sort()).toEqual(['Пункт 1', 'Пункт 2', 'Пункт 3', 'Пункт 4']);
    expect(posts().map((e) => e.status)).toEqual([201, 201, 201, 201]);
    // 1 at once, then one a second: arrivals at ~0, 1, 2, 3 s.
    expect(postSpreadMs()).toBeGreaterThanOrEqual(2_900);
  });

  it('default rate limits deliver the same 4 messages in one burst', async () => {
    suite.project(config('', FANOUT), TEMPLATES);
    const r = await runJob('burst');
    expect(r.code, r.stderr).toBe(0);
    expect(suite.sandbox.store.messages(101)).toHaveLength(4);
    expect(posts().map((e) => e.status)).toEqual([201, 201, 201, 201]);
    expect(postSpreadMs()).toBeLessThan(1_000);
  });

  it('retry.retries: 0 turns a single 500 into a failed run (exit 1); the default retries deliver it', async () => {
    let p = suite.project(config('pachca:\n  retry: { retries: 0 }', SINGLE), TEMPLATES);
    suite.sandbox.faults.add({ kind: 'status', status: 500, method: 'POST', path: '/messages', times: 1 });
    const failed = await runJob('single');
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/E_DELIVERY/);
    expect(posts().map((e) => e.status)).toEqual([500]);
    expect(suite.sandbox.store.messages(102)).toHaveLength(0);
    const ledger = await openLedger('sqlite:state/ledger.db', p);
    try {
      expect(await ledger.getRun('single', new Date(SLOT))).toMatchObject({ status: 'failed', attempts: 1 });
    } finally {
      await ledger.close();
    }

    suite.sandbox.reset();
    p.cleanup();
    p = suite.project(config('', SINGLE), TEMPLATES);
    suite.sandbox.faults.add({ kind: 'status', status: 500, method: 'POST', path: '/messages', times: 1 });
    const ok = await runJob('single');
    expect(ok.code, ok.stderr).toBe(0);
    expect(posts().map((e) => e.status)).toEqual([500, 201]);
    expect(suite.sandbox.store.messages(102)).toHaveLength(1);
  });

  it('timeouts.request: 1s gives up on a POST the sandbox holds for 3 s, with a timeout error', async () => {
    suite.project(config('pachca:\n  retry: { retries: 0 }\n  timeouts: { request: 1s }', SINGLE), TEMPLATES);
    suite.sandbox.faults.add({ kind: 'delay', ms: 3_000, method: 'POST', path: '/messages' });
    const r = await runJob('single');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/E_DELIVERY/);
    expect(r.stderr).toMatch(/E_ATTEMPT_TIMEOUT: no complete answer within 1000 ms/);
    // The client hung up after ~1 s: the sandbox saw the request closed before its 3 s delay was over.
    const [post] = posts();
    expect(post).toMatchObject({ outcome: 'client-closed', status: null, fault: 'delay' });
    // The sandbox's clock starts when the request arrives, after the client's did: on a loaded machine
    // that can be a few hundred ms later, so the floor only rules out "hung up at once".
    expect(post!.durationMs).toBeGreaterThanOrEqual(500);
    expect(post!.durationMs).toBeLessThan(2_500);
    expect(suite.sandbox.store.messages(102)).toHaveLength(0);
  });

  it('with the default timeouts the same 3 s delay is waited out and delivered', async () => {
    suite.project(config('pachca:\n  retry: { retries: 0 }', SINGLE), TEMPLATES);
    suite.sandbox.faults.add({ kind: 'delay', ms: 3_000, method: 'POST', path: '/messages' });
    const r = await runJob('single');
    expect(r.code, r.stderr).toBe(0);
    expect(posts()).toEqual([expect.objectContaining({ status: 201, fault: 'delay' })]);
    expect(suite.sandbox.store.messages(102)).toHaveLength(1);
  });
});
