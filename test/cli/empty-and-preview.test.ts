/**
 * Skipping on empty data (skip_if, a source reporting an empty period, on_empty), notes reaching
 * the user, and previews of a job that reads Pachca — through the CLI against a real sandbox.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { makeProject, type Project } from '../helpers/project.js';
import { FIXED_SLOT_RETENTION } from '../helpers/retention.js';

let sandbox: Sandbox;
let project: Project | undefined;
beforeAll(async () => {
  sandbox = await startSandbox({ tokens: ['tok-empty-test'], rateLimits: false });
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => {
  sandbox.reset();
  project?.cleanup();
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    env: { PACHCA_TOKEN: 'tok-empty-test', PACHCA_API_URL: sandbox.baseUrl, PATH: process.env.PATH },
    cwd: project!.dir,
  });
  return { code, out, err };
}

function setup(jobYaml: string, template = 'Итого: {{metrics.count}}\n'): void {
  project = makeProject({
    'jobs.config.yaml': `version: 1\nstate:\n  url: sqlite:state.db\n${FIXED_SLOT_RETENTION}\njobs:\n${jobYaml}`,
    'templates/t.hbs': template,
  });
}

const SLOT = ['--slot', '2026-11-24T09:00:00+03:00'];

describe('skip_if and on_empty', () => {
  const job = (extra: string, data = '{ count: 0, items: [] }') =>
    `  - name: j\n    schedule: "0 9 * * *"\n    source: { type: static, data: ${data} }\n    template: t.hbs\n    target: { chat_id: 101 }\n${extra}`;

  it('skips when the value is empty, recording the reason, and posts nothing', async () => {
    setup(job('    skip_if: metrics.count\n'));
    const r = await cli(['run-job', 'j', ...SLOT]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/skipped — skip_if: metrics\.count is empty/);
    expect(sandbox.store.messages()).toHaveLength(0);
    const h = await cli(['history', 'j']);
    expect(h.out).toMatch(/skipped.*skip_if: metrics\.count is empty/);
  });

  it('on_empty: send posts anyway', async () => {
    setup(job('    skip_if: metrics.count\n    on_empty: send\n'));
    const r = await cli(['run-job', 'j', ...SLOT]);
    expect(r.code).toBe(0);
    expect(sandbox.store.messages().map((m) => m.content)).toEqual(['Итого: 0']);
  });

  it('a value that is present is not empty: the digest goes out', async () => {
    setup(job('    skip_if: metrics.count\n', '{ count: 3 }'));
    expect((await cli(['run-job', 'j', ...SLOT])).code).toBe(0);
    expect(sandbox.store.messages()).toHaveLength(1);
  });

  it('a path that is not in the data fails the run with a hint, instead of skipping forever', async () => {
    setup(job('    skip_if: metrics.cnt\n'));
    const r = await cli(['run-job', 'j', ...SLOT]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/E_SOURCE jobs\.config\.yaml:\d+:\d+ .*skip_if: "metrics\.cnt" is not in the data/);
    expect(r.err).toMatch(/metrics has: count, items/);
    expect(sandbox.store.messages()).toHaveLength(0);
  });
});

describe('the pachca source', () => {
  const job = (extra = '') =>
    `  - name: activity\n    schedule: "0 10 * * 1"\n    period: previous_week\n    source: { type: pachca, chats: [101] }\n    template: t.hbs\n    target: { chat_id: 102 }\n${extra}`;
  const template = 'Сообщений: {{metrics.totals.messages}}\n';

  it('a quiet week is reported empty by the source: skipped, nothing posted', async () => {
    setup(job(), template);
    const r = await cli(['run-job', 'activity', '--slot', '2026-11-23T10:00:00+03:00']);
    expect(r.code).toBe(0);
    // The job's single source is not called "default".
    expect(r.err).toMatch(/skipped — no data: no messages in the period/);
    expect(r.err).not.toContain('default');
    expect(sandbox.store.messages()).toHaveLength(0);
  });

  it('render previews it with real data read from Pachca, and posts nothing', async () => {
    setup(job('    on_empty: send\n'), template);
    // Messages in chat 101 "now" (the sandbox stamps creation time), read back by the source.
    for (const content of ['раз', 'два', 'три']) {
      const res = await fetch(`${sandbox.baseUrl}/messages`, {
        method: 'POST',
        headers: { authorization: 'Bearer tok-empty-test', 'content-type': 'application/json' },
        body: JSON.stringify({ message: { entity_id: 101, content } }),
      });
      expect(res.status).toBe(201);
    }
    const before = sandbox.store.messages().length;
    const slot = new Date(Date.now() + 7 * 86_400_000).toISOString();
    // The bot's own messages are not counted by default; count them for this preview.
    project!.write('jobs.config.yaml', `version: 1\njobs:\n${job('    on_empty: send\n').replace('chats: [101] }', 'chats: [101], include_bots: true }')}`);
    const r = await cli(['render', 'activity', '--slot', slot]);
    // A week from now to the millisecond is no slot of "0 10 * * 1": said, and nothing else.
    expect(r.err.trim().split('\n')).toEqual([expect.stringMatching(/^warning: --slot \S+ is not on activity's schedule "0 10 \* \* 1"/)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Сообщений: 3');
    expect(sandbox.store.messages()).toHaveLength(before);
    const dry = await cli(['run-job', 'activity', '--slot', slot, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('Сообщений: 3');
    expect(sandbox.store.messages()).toHaveLength(before);
  });
});

describe('notes', () => {
  it('an optional source that failed is named in a note on a run that still went out', async () => {
    setup(
      '  - name: n\n    schedule: "0 9 * * *"\n    sources:\n      main: { type: static, data: { count: 2 } }\n' +
        '      extra: { type: file, path: missing.json, optional: true }\n    template: t.hbs\n    target: { chat_id: 101 }\n',
      'Итого: {{metrics.main.count}}\n',
    );
    const r = await cli(['run-job', 'n', ...SLOT]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/note: source "extra" \(file\) failed and was left out/);
    expect(sandbox.store.messages()).toHaveLength(1);
    const h = await cli(['history', 'n']);
    expect(h.out).toMatch(/succeeded.*source "extra" \(file\) failed and was left out/);
  });
});

describe('previous: the README example across two slots', () => {
  it('{{delta metrics.revenue previous.revenue}} shows — on the first run and the change on the next', async () => {
    project = makeProject({
      'jobs.config.yaml':
        'version: 1\nstate:\n  url: sqlite:state.db\njobs:\n  - name: rev\n    schedule: "0 9 * * *"\n' +
        '    source: { type: file, path: data.json }\n    template: t.hbs\n    target: { chat_id: 101 }\n',
      'templates/t.hbs': 'Выручка: {{number metrics.revenue}} {{delta metrics.revenue previous.revenue}}\n',
      'data.json': '{ "revenue": 1000 }',
    });
    expect((await cli(['run-job', 'rev', '--slot', '2026-11-23T09:00:00+03:00'])).code).toBe(0);
    project.write('data.json', '{ "revenue": 1200 }');
    expect((await cli(['run-job', 'rev', '--slot', '2026-11-24T09:00:00+03:00'])).code).toBe(0);
    expect(sandbox.store.messages().map((m) => m.content)).toEqual(['Выручка: 1\u00a0000 —', 'Выручка: 1\u00a0200 ▲ +20%']);
  });
});
