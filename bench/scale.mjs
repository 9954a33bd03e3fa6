// 1,000 jobs due in the same minute on one daemon, delivering to the sandbox (limits on):
// every slot claimed and run once, delivery paced by the client, and the daemon's peak RSS.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { peakRssMb } from './common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cli = join(root, 'dist/bin/pachca-digest.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function runScaleBench({ jobs = 1000, chats = 200, leadSeconds = 25, nodeOptions } = {}) {
  const { startSandbox } = await import('../dist/sandbox/index.js');
  const sandbox = await startSandbox({
    tokens: ['bench-token'],
    chats: Array.from({ length: chats }, (_, i) => ({ id: 10_000 + i, name: `Чат ${10_000 + i}` })),
  });
  const dir = mkdtempSync(join(tmpdir(), 'pachca-digest-scale-'));
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'templates/t.hbs'), 'Дайджест **{{job.name}}**: {{metrics.value}}\n');
  const due = new Date(Math.ceil((Date.now() + leadSeconds * 1000) / 1000) * 1000);
  const schedule = `${due.getUTCSeconds()} ${due.getUTCMinutes()} ${due.getUTCHours()} * * *`;
  const lines = ['version: 1', 'state:', '  url: sqlite:state.db', 'defaults:', '  timezone: UTC', 'jobs:'];
  for (let i = 0; i < jobs; i++) {
    lines.push(
      `  - name: job-${i}`,
      `    schedule: "${schedule}"`,
      `    source: { type: static, data: { value: ${i} } }`,
      '    template: t.hbs',
      `    target: { chat_id: ${10_000 + (i % chats)} }`,
    );
  }
  writeFileSync(join(dir, 'jobs.config.yaml'), lines.join('\n') + '\n');

  // Other processes share the 2 cores: the 1-minute load average when the daemon starts, for reading the times.
  const loadAverageAtStart = Math.round(loadavg()[0] * 10) / 10;
  const env = { ...process.env, PACHCA_TOKEN: 'bench-token', PACHCA_API_URL: sandbox.baseUrl };
  delete env.PACHCA_DIGEST_STATE;
  if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
  else delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [cli, 'run', '--log-level', 'warn', '--log-format', 'json'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  // Listened for from the start: a daemon that exits at once (a bad NODE_OPTIONS) closed before a
  // listener added at the end would hear it, and the bench waited forever.
  const closed = new Promise((r) => child.on('close', (code) => r(code)));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let peak = 0;
  const deadline = Date.now() + (leadSeconds + 240) * 1000;
  let firstAt = null;
  let lastAt = null;
  while (Date.now() < deadline) {
    const rss = peakRssMb(child.pid);
    if (rss) peak = Math.max(peak, rss);
    const n = sandbox.store.messages().length;
    if (n > 0 && !firstAt) firstAt = Date.now();
    if (n >= jobs) {
      lastAt = Date.now();
      break;
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  await sleep(1500); // let late duplicates, if any, arrive
  const rss = peakRssMb(child.pid);
  if (rss) peak = Math.max(peak, rss);
  child.kill('SIGTERM');
  const exit = await closed;

  const messages = sandbox.store.messages();
  const perJob = new Map();
  for (const m of messages) {
    const name = /\*\*(job-\d+)\*\*/.exec(m.content)?.[1];
    perJob.set(name, (perJob.get(name) ?? 0) + 1);
  }
  const Database = require('better-sqlite3');
  const db = new Database(join(dir, 'state.db'), { readonly: true });
  const ledger = db.prepare("select status, count(*) as n from digest_runs group by status").all();
  db.close();
  const stats = sandbox.stats();
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
  const duplicates = [...perJob.values()].filter((n) => n > 1).length;
  return {
    nodeOptions: nodeOptions ?? '(none)',
    jobs,
    chats,
    delivered: messages.length,
    lost: jobs - perJob.size,
    duplicates,
    ledger: Object.fromEntries(ledger.map((r) => [r.status, r.n])),
    secondsFromSlotToLastMessage: lastAt ? Math.round((lastAt - due.getTime()) / 100) / 10 : null,
    peakRssMb: Math.round(peak * 10) / 10,
    goalPeakRssMb: 120,
    http429: stats.rateLimited ?? stats.tooManyRequests ?? null,
    loadAverageAtStart,
    daemonExit: exit,
    daemonStderrTail: stderr.split('\n').filter(Boolean).slice(-3),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runScaleBench(), null, 2));
}
