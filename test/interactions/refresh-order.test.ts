/**
 * A refresh click racing a scheduled `delivery: update` run of the same message: the two edits take
 * the ledger's message lock in turn, so the scheduled slot's content is what the message shows at
 * the end — never the refresh's older slot landing after it.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { Emitter, type DigestEvents } from '../../src/events.js';
import { PachcaClient } from '../../src/pachca/index.js';
import { runJob } from '../../src/pipeline/run.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { openStateStore } from '../../src/state/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { drainHistory } from '../../src/interactions/index.js';
import { createRouter } from '../../src/cli/commands/events.js';
import { project } from '../config/helpers.js';

const YAML = `version: 1
events: { mode: poll }
jobs:
  - name: live
    schedule: "0 9 * * *"
    timezone: UTC
    delivery: update
    source: { type: file, path: data.json }
    template: t.hbs
    target:
      chat_id: 101
      buttons:
        - - { text: "Обновить", action: refresh }
`;

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('refresh during a scheduled edit', () => {
  it('the edits take turns: the message ends with the scheduled slot, not the refresh of the older one', async () => {
    const sandbox = await startSandbox({ tokens: ['bot-token'], web: false });
    cleanup.push(() => sandbox.close());
    const dir = project(YAML, { 'templates/t.hbs': 'Продажи за {{date slot "d MMMM"}}: {{metrics.total}}\n', 'data.json': '{"total": 10}' });
    const config = await loadConfig({ cwd: dir, env: {} });
    const store = await openStateStore(`sqlite://${dir}/state.db`, { baseDir: dir });
    cleanup.push(() => store.close());
    const events = new Emitter<DigestEvents>();
    const client = new PachcaClient({ token: 'bot-token', baseUrl: sandbox.baseUrl, events });
    cleanup.push(() => client.close());
    const deps = { config, events, logger: silentLogger, store, client: () => client, owner: 'test' };
    const job = config.jobs[0]!;
    const first = await runJob(deps, { job, slot: new Date('2026-12-01T09:00:00Z') });
    expect(first.status).toBe('succeeded');
    const id = first.delivered[0]!.messageId;
    expect(sandbox.store.message(id)!.content).toBe('Продажи за 1 декабря: 10');

    writeFileSync(`${dir}/data.json`, '{"total": 20}');
    // The refresh's edit is slow to land (held 1.5 s by the server): the scheduled edit comes meanwhile.
    sandbox.faults.add({ kind: 'delay', ms: 1_500, method: 'PUT', path: `/messages/${id}`, times: 1 });
    sandbox.bot.click({ messageId: id, userId: 1, text: 'Обновить' });
    const router = createRouter({ ...deps, config: () => config });
    const refreshing = drainHistory(client, router);
    await new Promise((r) => setTimeout(r, 400));
    const second = await runJob(deps, { job, slot: new Date('2026-12-02T09:00:00Z') });
    expect(second.status).toBe('succeeded');
    expect(await refreshing).toMatchObject({ handled: 1, failed: 0 });

    expect(sandbox.store.message(id)!.content).toBe('Продажи за 2 декабря: 20');
    // Both edits happened, the refresh's first.
    const puts = sandbox.requests().filter((r) => r.method === 'PUT' && r.status === 200);
    expect(puts).toHaveLength(2);
  });
});
