/**
 * Three processes of one token (three CronJob pods, `run-job` each) sharing one ledger split the
 * token's budget: the server, which counts every request of the token against one ceiling, sees
 * them together near that ceiling, not at three times it, and answers almost no 429s. Without the
 * shared ledger (each process alone) the same runs draw many 429s: the control case shows the
 * test measures the sharing. SQLite here (processes on one host); PostgreSQL when configured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { makeProject, spawnCli, type Project } from '../helpers/project.js';

const PG = process.env.PACHCA_DIGEST_TEST_PG;
const TOKEN = 'shared-budget-token';
/** The server's token ceiling, and what the config tells the client (it knows the documented limit). */
const CEILING = 30;
const JOBS = ['a', 'b', 'c'];
const CHATS = 12;
const PER_JOB = 72;

/** Each job has chats of its own: the per-chat limits are not what this test is about. */
const items = (j: number) => Array.from({ length: PER_JOB }, (_, i) => `{ chat: ${201 + j * CHATS + (i % CHATS)}, n: ${i} }`).join(', ');

function config(): string {
  return [
    'version: 1',
    'pachca:',
    `  rate_limits: { token: { per_second: ${CEILING}, burst: ${CEILING} } }`,
    'jobs:',
    ...JOBS.flatMap((name, j) => [
      `  - name: ${name}`,
      '    schedule: "* * * * *"',
      `    source: { type: static, data: { items: [${items(j)}] } }`,
      '    for_each: metrics.items',
      '    template: t.hbs',
      '    target: { chat_id: "{{item.chat}}" }',
    ]),
  ].join('\n');
}

async function runThree(label: string, sb: Sandbox, p: Project, state: (job: string) => string) {
  sb.reset();
  const slot = new Date(Date.now() - 60_000);
  slot.setUTCSeconds(0, 0);
  const procs = JOBS.map((job) =>
    spawnCli(['run-job', job, '--slot', slot.toISOString(), '--force'], {
      cwd: p.dir,
      env: { PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sb.baseUrl, PACHCA_DIGEST_STATE: state(job) },
    }),
  );
  const exits = await Promise.all(procs.map((x) => x.exited));
  for (const [i, e] of exits.entries()) expect(e.code, procs[i]!.stderr()).toBe(0);
  // 429s of the token-wide budget (the sandbox says which limit answered).
  const limited = sb.requests().filter((r) => r.status === 429 && r.limitedBy === 'token').length;
  const contents = sb.store.messages().map((m) => `${m.chat_id}:${m.content}`);
  console.log(`shared-budget ${label}: ${JSON.stringify({ limited, delivered: contents.length })}`);
  return { limited, delivered: contents.length, unique: new Set(contents).size };
}

describe.each(PG ? ['sqlite', 'postgres'] : ['sqlite'])('three run-job processes of one token on one %s ledger', (kind) => {
  let sb: Sandbox;
  let p: Project;
  beforeAll(async () => {
    sb = await startSandbox({
      tokens: [TOKEN],
      chats: Array.from({ length: JOBS.length * CHATS }, (_, i) => ({ id: 201 + i, name: `Команда ${i + 1}` })),
      rateLimits: { token: { perSecond: CEILING, burst: CEILING } },
    });
    p = makeProject({ 'jobs.config.yaml': config(), 'templates/t.hbs': '{{job.name}} → {{item.chat}} #{{item.n}}\n' });
  });
  afterAll(async () => {
    await sb.close();
    p.cleanup();
  });

  const schema = `t_budget_${Math.random().toString(36).slice(2, 10)}`;
  const shared = () => (kind === 'sqlite' ? `sqlite://${p.dir}/shared.db` : `${PG}${PG!.includes('?') ? '&' : '?'}schema=${schema}`);

  it('share the token budget: together within the server ceiling, next to no 429s (and far fewer than alone)', async () => {
    const r = await runThree(kind, sb, p, shared);
    expect(r.delivered).toBe(JOBS.length * PER_JOB);
    expect(r.unique).toBe(JOBS.length * PER_JOB);
    // Joining replicas overlap by at most a beat before their shares settle.
    expect(r.limited).toBeLessThanOrEqual(10);
    if (kind !== 'sqlite') return;
    // Control: the same processes, each with its own ledger, cannot see each other.
    const alone = await runThree('alone', sb, p, (job) => `sqlite://${p.dir}/alone-${job}.db`);
    expect(alone.delivered).toBe(JOBS.length * PER_JOB);
    expect(alone.limited).toBeGreaterThan(r.limited + 5);
  }, 180_000);
});
