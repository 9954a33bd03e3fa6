/**
 * Unsubscribe end to end: a personal DM fan-out, one recipient presses «Отписаться», and the next
 * slot skips exactly that recipient (the ledger's list, read by the fan-out), while the others get it.
 */
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
import { FIXED_SLOT_RETENTION } from '../helpers/retention.js';

const YAML = `version: 1
state:
${FIXED_SLOT_RETENTION}
events: { mode: poll }
jobs:
  - name: personal
    schedule: "0 9 * * *"
    timezone: UTC
    source: { type: static, data: { people: [{ id: 1, n: 5 }, { id: 2, n: 7 }, { id: 3, n: 9 }] } }
    for_each: metrics.people
    template: t.hbs
    target:
      user_id: "{{item.id}}"
      buttons:
        - - { text: "Отписаться", action: unsubscribe }
`;

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('unsubscribe in a DM fan-out', () => {
  it('the next slot skips the user who unsubscribed, and only that user', async () => {
    const sandbox = await startSandbox({ tokens: ['bot-token'], web: false });
    cleanup.push(() => sandbox.close());
    const dir = project(YAML, { 'templates/t.hbs': 'Ваши задачи: {{item.n}}\n' });
    const config = await loadConfig({ cwd: dir, env: {} });
    const store = await openStateStore('sqlite::memory:', { baseDir: dir });
    cleanup.push(() => store.close());
    const events = new Emitter<DigestEvents>();
    const client = new PachcaClient({ token: 'bot-token', baseUrl: sandbox.baseUrl, events });
    cleanup.push(() => client.close());
    const deps = { config, events, logger: silentLogger, store, client: () => client, owner: 'test' };
    const dmsTo = (userId: number) => sandbox.store.messages().filter((m) => m.entity_type === 'user' && m.entity_id === userId && /Ваши задачи/.test(m.content));

    const first = await runJob(deps, { job: config.jobs[0]!, slot: new Date('2026-12-01T09:00:00Z') });
    expect(first.status).toBe('succeeded');
    expect([1, 2, 3].map((u) => dmsTo(u).length)).toEqual([1, 1, 1]);

    sandbox.bot.click({ messageId: dmsTo(2)[0]!.id, userId: 2, text: 'Отписаться' });
    const router = createRouter({ ...deps, config: () => config });
    await drainHistory(client, router);
    expect(await store.interactions.listUnsubscribed('personal')).toEqual([2]);

    const second = await runJob(deps, { job: config.jobs[0]!, slot: new Date('2026-12-02T09:00:00Z') });
    expect(second.status).toBe('succeeded');
    expect([1, 2, 3].map((u) => dmsTo(u).length)).toEqual([2, 1, 2]);
  });
});
