// Personal digests at scale, against the sandbox with Pachca's token-wide ceiling (50 req/s):
// (a) 10,000 DMs to 10,000 users through one `run-job` (SQLite ledger): elapsed ÷ floor (200 s),
//     429s, duplicates, lost, peak RSS; then the same run killed with -9 at about half and started
//     again until the slot is done: every user exactly once in total.
// (b) Three daemons on one PostgreSQL ledger sharing a 3,000-DM fan-out under the one token:
//     requests per second as the server counts them, 429s, elapsed from the slot to the last
//     message ÷ floor (60 s), and what each daemon delivered.
// Every DM goes to its own personal chat, so Pachca's per-chat write limit never binds (the sandbox
// scopes each DM by its pair of users) and the token-wide ceiling is what this measures. Run by
// `npm run bench` (after `npm run build`), or alone: `node bench/dm-fanout.mjs [single|replicas]`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { peakRssMb } from './common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/bin/pachca-digest.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TOKEN = 'bench-dm-token';
const CEILING = 50;
const SLOT = '2026-12-01T09:00:00Z';

async function sandboxFor(users) {
  const { startSandbox } = await import('../dist/sandbox/index.js');
  return startSandbox({
    tokens: [TOKEN],
    users: Array.from({ length: users }, (_, i) => ({ id: 100_000 + i, first_name: `Имя${i}`, last_name: 'Тестов', nickname: `u${i}` })),
    rateLimits: { token: { perSecond: CEILING, burst: CEILING } },
    requestLogSize: 4 * users + 10_000,
    web: false,
  });
}

function projectFor(users, { state, schedule, lease = '10s' }) {
  const dir = mkdtempSync(join(tmpdir(), 'pachca-digest-dm-'));
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'templates/t.hbs'), 'Доброе утро, {{item.name}}! Ваши задачи на сегодня: {{item.tasks}}. slot={{slot}}\n');
  writeFileSync(join(dir, 'people.csv'), ['name,user_id,tasks', ...Array.from({ length: users }, (_, i) => `Сотрудник ${i},${100_000 + i},${i % 17}`)].join('\n') + '\n');
  writeFileSync(
    join(dir, 'jobs.config.yaml'),
    [
      'version: 1',
      'state:',
      `  url: ${state}`,
      `  lease: ${lease}`,
      'jobs:',
      '  - name: personal',
      `    schedule: "${schedule}"`,
      '    timezone: UTC',
      '    timeout: 30m',
      '    source: { type: file, path: people.csv }',
      '    for_each: metrics.rows',
      '    template: t.hbs',
      '    target: { user_id: "{{item.user_id}}" }',
      '',
    ].join('\n'),
  );
  return dir;
}

function spawnCli(dir, args, extraEnv = {}) {
  const env = { ...process.env, PACHCA_TOKEN: TOKEN, ...extraEnv };
  delete env.PACHCA_DIGEST_STATE;
  delete env.NODE_OPTIONS;
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, [cli, ...args], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.on('close', (code, signal) => r({ code, signal })));
  let peak = 0;
  const rss = setInterval(() => {
    const v = peakRssMb(child.pid);
    if (v) peak = Math.max(peak, v);
  }, 100);
  void exited.then(() => clearInterval(rss));
  return { child, exited, stderr: () => stderr, peakRssMb: () => Math.round(peak * 10) / 10 };
}

/** Each user's DMs as the server stored them. */
function audit(sb, users) {
  const per = new Map();
  for (const m of sb.store.messages()) if (m.entity_type === 'user') per.set(m.entity_id, (per.get(m.entity_id) ?? 0) + 1);
  let duplicates = 0;
  for (const n of per.values()) if (n > 1) duplicates += n - 1;
  return { delivered: sb.store.messages().length, users: per.size, duplicates, lost: users - per.size };
}

/** Requests per wall-clock second as the server received them. */
function perSecond(sb) {
  const counts = new Map();
  for (const e of sb.requests()) {
    const s = Math.floor(Date.parse(e.time) / 1000);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const seconds = [...counts.keys()].sort((a, b) => a - b);
  const series = seconds.map((s) => counts.get(s));
  // The first and last seconds are partial.
  const inner = series.slice(1, -1);
  return { maxPerSecond: Math.max(0, ...series), secondsOver50: series.filter((n) => n > CEILING).length, secondsOverCeilingPlusBurst: series.filter((n) => n > 2 * CEILING).length, seconds: series.length, medianPerSecond: inner.sort((a, b) => a - b)[Math.floor(inner.length / 2)] ?? null };
}

function limitedStats(sb) {
  const st = sb.stats();
  return { requests: st.requests, http429: st.rateLimited, http429Pct: Number(((100 * st.rateLimited) / Math.max(1, st.requests)).toFixed(2)), rateLimitedBy: st.rateLimitedBy };
}

export async function runSingleDmBench({ users = 10_000 } = {}) {
  const sb = await sandboxFor(users);
  const floorMs = (users / CEILING) * 1000;
  const out = { users, floorMs, loadAverageAtStart: Number(loadavg()[0].toFixed(1)) };
  try {
    // One uninterrupted run.
    let dir = projectFor(users, { state: 'sqlite:state.db', schedule: '0 9 * * *' });
    const t0 = performance.now();
    const run = spawnCli(dir, ['run-job', 'personal', '--slot', SLOT], { PACHCA_API_URL: sb.baseUrl });
    const exit = await run.exited;
    const elapsedMs = performance.now() - t0;
    out.uninterrupted = {
      exit: exit.code,
      elapsedMs: Math.round(elapsedMs),
      ratio: Number((elapsedMs / floorMs).toFixed(3)),
      peakRssMb: run.peakRssMb(),
      ...limitedStats(sb),
      ...audit(sb, users),
      ...perSecond(sb),
      said: run.stderr().split('\n').filter((l) => l && !l.startsWith('{')).at(-1) ?? null,
      goal: { ratio: 1.1, http429Pct: 1, duplicates: 0, lost: 0, peakRssMb: 150 },
    };
    console.log('dm single', JSON.stringify(out.uninterrupted));
    rmSync(dir, { recursive: true, force: true });

    // Killed with -9 at about half, then started again until the slot is done.
    sb.reset();
    await sleep(1500);
    dir = projectFor(users, { state: 'sqlite:state.db', schedule: '0 9 * * *' });
    const k0 = performance.now();
    const first = spawnCli(dir, ['run-job', 'personal', '--slot', SLOT], { PACHCA_API_URL: sb.baseUrl });
    while (sb.store.messages().length < users / 2 && first.child.exitCode === null) await sleep(50);
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = sb.store.messages().length;
    const restarts = [];
    for (let i = 0; i < 20; i++) {
      const again = spawnCli(dir, ['run-job', 'personal', '--slot', SLOT], { PACHCA_API_URL: sb.baseUrl });
      const e = await again.exited;
      const said = again.stderr().split('\n').filter(Boolean).at(-1) ?? '';
      restarts.push({ exit: e.code, said: said.slice(0, 200) });
      if (/succeeded|already succeeded/.test(said)) break;
      await sleep(1000);
    }
    out.killedAtHalf = {
      killedAfterMessages: atKill,
      restarts,
      totalElapsedMs: Math.round(performance.now() - k0),
      ...limitedStats(sb),
      ...audit(sb, users),
    };
    console.log('dm killed', JSON.stringify(out.killedAtHalf));
    rmSync(dir, { recursive: true, force: true });
  } finally {
    await sb.close();
  }
  return out;
}

export async function runReplicasDmBench({ users = 3_000, replicas = 3, leadSeconds = 15 } = {}) {
  const pg = process.env.PACHCA_DIGEST_TEST_PG;
  if (!pg) return { skipped: 'PACHCA_DIGEST_TEST_PG is not set (a PostgreSQL for the shared ledger)' };
  const schema = `bench_replicas_${randomBytes(4).toString('hex')}`;
  const state = `${pg}${pg.includes('?') ? '&' : '?'}schema=${schema}`;
  const sb = await sandboxFor(users);
  const floorMs = (users / CEILING) * 1000;
  const due = new Date(Math.ceil((Date.now() + leadSeconds * 1000) / 1000) * 1000);
  const schedule = `${due.getUTCSeconds()} ${due.getUTCMinutes()} ${due.getUTCHours()} * * *`;
  const dir = projectFor(users, { state: 'sqlite:unused.db', schedule });
  const out = { users, replicas, floorMs, loadAverageAtStart: Number(loadavg()[0].toFixed(1)) };
  const daemons = Array.from({ length: replicas }, () =>
    spawnCli(dir, ['run', '--log-format', 'json'], { PACHCA_API_URL: sb.baseUrl, PACHCA_DIGEST_STATE: state }),
  );
  try {
    const deadline = due.getTime() + 20 * floorMs;
    let lastAt = null;
    while (Date.now() < deadline) {
      if (sb.store.messages().length >= users) {
        lastAt = Date.now();
        break;
      }
      if (daemons.some((d) => d.child.exitCode !== null)) break;
      await sleep(50);
    }
    await sleep(2000); // late duplicates, if any, arrive
    const lastMessage = Math.max(...sb.store.messages().map((m) => Date.parse(m.created_at)));
    const firstRequest = Math.min(...sb.requests().map((e) => Date.parse(e.time)));
    const logs = daemons.map((d) =>
      d
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return {};
          }
        }),
    );
    const parts = logs.map((lines) => {
      const own = lines.find((l) => l.msg === 'run succeeded' && l.job === 'personal');
      if (own) return { role: 'claimant', messages: own.messageIds.length };
      const helped = lines.find((l) => l.msg === 'delivered part of a fan-out another replica claimed');
      return helped ? { role: 'helper', messages: helped.messages, chunks: helped.chunks } : { role: 'idle', messages: 0 };
    });
    out.result = {
      elapsedFromSlotMs: lastAt ? lastMessage - due.getTime() : null,
      ratio: lastAt ? Number(((lastMessage - due.getTime()) / floorMs).toFixed(3)) : null,
      elapsedFromFirstRequestMs: lastAt ? lastMessage - firstRequest : null,
      ratioFromFirstRequest: lastAt ? Number(((lastMessage - firstRequest) / floorMs).toFixed(3)) : null,
      ...limitedStats(sb),
      ...audit(sb, users),
      ...perSecond(sb),
      parts,
      peakRssMb: daemons.map((d) => d.peakRssMb()),
      goal: { ratio: 1.15, http429Pct: 1, maxPerSecond: `${CEILING} ± burst (${CEILING})` },
    };
    console.log('dm replicas', JSON.stringify(out.result));
  } finally {
    for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGTERM');
    await Promise.all(daemons.map((d) => d.exited));
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
    const { default: pgmod } = await import('pg');
    const c = new pgmod.Client({ connectionString: pg });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const which = process.argv[2];
  if (!which || which === 'replicas') console.log(JSON.stringify(await runReplicasDmBench(), null, 2));
  if (!which || which === 'single') console.log(JSON.stringify(await runSingleDmBench(), null, 2));
}
