/**
 * `runJob` is the whole step: a caller that only calls it (a library user, the sandbox's «Run now»)
 * still gets the failure alert, the recovery alert and the heartbeat; a dry run gets none of them.
 * Real sandbox, real SQLite ledger, a real HTTP server as the heartbeat monitor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runJob } from '../../src/pipeline/run.js';
import { startRecorder } from '../e2e-ops/helpers.js';
import { pipelineHarness } from '../helpers/pipeline.js';

const yaml = (heartbeat: string) => `version: 1
pachca:
  retry: { retries: 0 }
alerts:
  chat_id: 104
  on: [failure, recovery]
  after: 1
heartbeat_url: ${heartbeat}/ping
jobs:
  - name: sales
    schedule: "0 9 * * *"
    timezone: UTC
    source: { type: static, data: { m: 5 } }
    template: t.hbs
    target: { chat_id: 101 }
`;

/** 09:00 UTC `d` days ago: relative, so state.retention (90 days) never refuses these slots. */
function daysAgo(d: number): Date {
  const t = new Date(Date.now() - d * 86_400_000);
  t.setUTCHours(9, 0, 0, 0);
  return t;
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('runJob includes what follows the outcome', () => {
  it('a failed run alerts, the next success announces recovery and pings the heartbeat; a dry run does neither', async () => {
    const monitor = await startRecorder();
    cleanup.push(() => monitor.close());
    const h = await pipelineHarness(yaml(monitor.url), { 'templates/t.hbs': 'Продажи: {{metrics.n}}\n' });
    cleanup.push(() => h.close());
    const { sandbox, config, deps } = h;
    const job = config.jobs[0]!;
    const alerts = () => sandbox.store.messages(104).map((m) => m.content);

    // The source gives no `n`: the template fails (E_TEMPLATE), a failed run.
    const failed = await runJob(deps, { job, slot: daysAgo(2) });
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('E_TEMPLATE');
    expect(alerts()).toHaveLength(1);
    expect(alerts()[0]).toMatch(/sales/);
    expect(monitor.hits).toHaveLength(0);

    const dry = await runJob(deps, { job, slot: daysAgo(1), dryRun: true, metrics: { n: 5 } });
    expect(dry.status).toBe('succeeded');
    expect(alerts()).toHaveLength(1);
    expect(monitor.hits).toHaveLength(0);

    const ok = await runJob(deps, { job, slot: daysAgo(1), metrics: { n: 5 } });
    expect(ok.status).toBe('succeeded');
    expect(sandbox.store.messages(101).map((m) => m.content)).toEqual(['Продажи: 5']);
    expect(alerts()).toHaveLength(2);
    expect(alerts()[1]).not.toBe(alerts()[0]);
    expect(monitor.hits.map((h) => h.path)).toEqual(['/ping']);
  });
});
