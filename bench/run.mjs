// `npm run bench`: every speed and memory target of the project, measured in one run, written to
// BENCHMARKS.md with the machine and the command. Not part of `npm test`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStartupBench } from './startup.mjs';
import { runScaleBench } from './scale.mjs';
import { runClientBench } from './client.mjs';
import { runChartsBench } from './charts.mjs';
import { runFanoutBench } from './fanout.mjs';
import { runReplicasDmBench, runSingleDmBench } from './dm-fanout.mjs';
import { loadavg } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);
// A partial run (`npm run bench -- charts`) keeps the other figures of the last full run.
const previous = existsSync(join(root, 'BENCHMARKS.md')) ? /```json\n([\s\S]*?)\n```/.exec(readFileSync(join(root, 'BENCHMARKS.md'), 'utf8'))?.[1] : undefined;
const results = only.length > 0 && previous ? JSON.parse(previous) : {};

if (want('startup')) {
  console.log('startup: run-job --dry-run vs node -e 0 …');
  results.startup = [await runStartupBench()];
  if (process.env.NODE_EXTRA_CA_CERTS) results.startup.push(await runStartupBench({ stripExtraCaCerts: true }));
  console.log(results.startup);
}
if (want('client')) {
  console.log('client: fan-out and single-chat against the sandbox with limits on …');
  results.client = await runClientBench();
  console.log(JSON.stringify(results.client, null, 2));
}
if (want('fanout')) {
  console.log('fanout: 1,000 messages / 50 chats under the token-wide ceiling, documented and half limits …');
  const load = loadavg()[0];
  results.fanout = { ...(await runFanoutBench()), loadAverageAtStart: Number(load.toFixed(1)) };
  console.log(JSON.stringify(results.fanout, null, 2));
}
if (want('dm')) {
  console.log('dm: 10,000 DMs to 10,000 users under a 50 req/s token ceiling, then the same killed with -9 at half and restarted …');
  results.dm = await runSingleDmBench();
  console.log(JSON.stringify(results.dm, null, 2));
}
if (want('replicas')) {
  console.log('replicas: three daemons on one PostgreSQL sharing a 3,000-DM fan-out under one 50 req/s token …');
  results.replicas = await runReplicasDmBench();
  console.log(JSON.stringify(results.replicas, null, 2));
}
if (want('scale')) {
  console.log('scale: 1,000 jobs due in the same minute on one daemon …');
  // The shipped Dockerfile, unit and manifests run Node with a small young generation; measured both ways.
  // A daemon's peak depends on when V8 happens to collect, so the default case runs three times.
  const series = [];
  for (let i = 0; i < 3; i++) series.push(await runScaleBench());
  const peaks = series.map((s) => s.peakRssMb);
  const median = [...peaks].sort((a, b) => a - b)[1];
  results.scale = [{ ...series.find((s) => s.peakRssMb === median), peakRssMbEachRun: peaks }, await runScaleBench({ nodeOptions: '--max-semi-space-size=1' })];
  console.log(JSON.stringify(results.scale, null, 2));
}

if (want('charts')) {
  console.log('charts: 100 line charts (365 points, 2 series) in-process, and the same chart in headless Chromium …');
  results.charts = await runChartsBench();
  console.log(JSON.stringify(results.charts, null, 2));
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}`;
const lines = ['# Benchmarks', '', `Produced by \`npm run bench\` (${new Date().toISOString()}) on: ${machine}.`];
lines.push('Ratios compare figures measured in the same run; absolute times vary with the machine.');
if (only.length > 0 && previous) lines.push(`Rows of ${only.join(', ')} from \`npm run bench -- ${only.join(' ')}\` at that time; the other rows are from the previous full run.`);
lines.push('', '## Summary', '');
lines.push('| What | Measured | Goal |', '| --- | --- | --- |');
for (const s of results.startup ?? []) {
  const load = s.loadAverageAtStart === undefined ? '' : `, 1-min load ${s.loadAverageAtStart} on ${cpus().length} cores`;
  lines.push(`| Start-up: \`run-job --dry-run\` vs \`node -e 0\` (${s.env}${load}), median of ${s.runs} | ${s.runJobDryRunMs} ms vs ${s.bareNodeMs} ms = **${s.ratio}×** | ≤ 3× |`);
}
if (results.client) {
  const f = results.client.fanout;
  const one = results.client.singleChat;
  lines.push(`| Fan-out ${f.messages} messages / ${f.chats} chats: elapsed ÷ minimum the limits allow | **${f.client.ratio}** (${f.client.elapsedMs} ms vs ${f.theoreticalMinMs} ms), 429s ${f.client.http429}, duplicates ${f.client.duplicates}, lost ${f.client.lost} | ≤ 1.10, 0, 0, 0 |`);
  lines.push(`| — naive client (all at once, retry after 429) | ${f.naive.ratio}, 429s ${f.naive.http429} | |`);
  lines.push(`| Single chat ${one.messages} messages | **${one.client.ratio}**, 429s ${one.client.http429}, duplicates ${one.client.duplicates}, lost ${one.client.lost} (naive: ${one.naive.ratio}, 429s ${one.naive.http429}) | ≤ 1.10, 0 |`);
}
if (results.fanout) {
  const f = results.fanout;
  for (const [label, s] of [
    ['documented limits (token 50/s, 4/s per chat)', f.documented],
    ['half the documented limits (token 25/s, 2/s per chat, bursts halved)', f.half],
  ]) {
    const c = s.client;
    const n = s.naive;
    lines.push(`| Fan-out ${s.messages} messages / ${s.chats} chats, ${label}, 1-min load ${f.loadAverageAtStart} on 2 cores: elapsed ÷ floor (${s.floorMs / 1000} s) | **${c.ratio}** (${c.elapsedMs} ms), 429s **${c.http429Pct} %** (${c.http429} of ${c.requests}), duplicates ${c.duplicates}, lost ${c.lost} | ≤ ${s.goal.ratio}, ≤ ${s.goal.http429Pct} %, 0, 0 |`);
    lines.push(`| — naive client (plain concurrent POSTs, Retry-After after a 429) | ${n.ratio}, 429s ${n.http429Pct} % (${n.http429} of ${n.requests}) | |`);
  }
}
if (results.dm?.uninterrupted) {
  const d = results.dm;
  const u = d.uninterrupted;
  const k = d.killedAtHalf;
  lines.push(`| ${d.users} DMs to ${d.users} users, one \`run-job\`, token ceiling 50 req/s, 1-min load ${d.loadAverageAtStart} on 2 cores: elapsed ÷ floor (${d.floorMs / 1000} s) | **${u.ratio}** (${u.elapsedMs} ms, process start to exit), 429s **${u.http429Pct} %** (${u.http429} of ${u.requests}), duplicates ${u.duplicates}, lost ${u.lost}, **peak RSS ${u.peakRssMb} MB**; server max ${u.maxPerSecond} req/s in a second, median ${u.medianPerSecond} | ≤ 1.10, ≤ 1 %, 0, 0, ≤ 150 MB |`);
  if (k) lines.push(`| — the same run killed with -9 after ${k.killedAfterMessages} DMs, then \`run-job\` again (${k.restarts.length} start(s)) | users served ${k.users} of ${d.users}, duplicates **${k.duplicates}**, lost **${k.lost}**, 429s ${k.http429Pct} % | exactly once |`);
}
if (results.replicas?.result) {
  const r = results.replicas;
  const x = r.result;
  lines.push(`| ${r.replicas} daemons on one PostgreSQL sharing a ${r.users}-DM fan-out, one 50 req/s token, 1-min load ${r.loadAverageAtStart}: elapsed slot → last DM ÷ floor (${r.floorMs / 1000} s) | **${x.ratio}** (${x.elapsedFromSlotMs} ms), server max **${x.maxPerSecond} req/s** in a second (${x.secondsOver50} s above 50, ${x.secondsOverCeilingPlusBurst} above 50 + burst), 429s **${x.http429Pct} %** (${x.http429} of ${x.requests}), duplicates ${x.duplicates}, lost ${x.lost}; delivered by each: ${x.parts.map((p) => p.role + ' ' + p.messages).join(', ')} | ≤ 1.15, ≤ 50 ± burst, ≤ 1 % |`);
}
for (const s of results.scale ?? []) {
  const peak = s.peakRssMbEachRun ? `**peak RSS ${s.peakRssMb} MB**, the median of ${s.peakRssMbEachRun.length} runs (${s.peakRssMbEachRun.join(', ')} MB)` : `**peak RSS ${s.peakRssMb} MB**`;
  lines.push(`| ${s.jobs} jobs due in one minute, one daemon (NODE_OPTIONS ${s.nodeOptions})${s.loadAverageAtStart === undefined ? '' : `, 1-min load ${s.loadAverageAtStart} on 2 cores`} | delivered ${s.delivered}, lost ${s.lost}, duplicates ${s.duplicates}, last message ${s.secondsFromSlotToLastMessage} s after the slot, ${peak} | each slot once; ≤ 120 MB |`);
}
if (results.charts) {
  const c = results.charts;
  const b = c.chromium;
  lines.push(`| Chart PNG (${c.chart}), in-process: p50 / p95 per chart | **${c.p50Ms} ms / ${c.p95Ms} ms** (2× density: ${c.density2x.p50Ms} / ${c.density2x.p95Ms} ms; first chart incl. loading ${c.firstChartMs} ms) | p50 ≤ 50 ms |`);
  lines.push(`| Peak RSS rendering ${c.charts} charts (whole process) | **${c.peakRssMb} MB** | ≤ 200 MB |`);
  if (b && !b.skipped) lines.push(`| — the same chart in headless Chromium (Debian's, playwright-core) | p50 ${b.p50Ms} ms / p95 ${b.p95Ms} ms per chart, browser launch ${b.launchMs} ms, browser RSS ${b.rssMb} MB | |`);
}
// Findings the numbers cannot carry (what was tried, where time goes) are kept by hand beside this script.
const notes = join(root, 'bench/NOTES.md');
if (existsSync(notes)) lines.push('', '## Notes', '', readFileSync(notes, 'utf8').trimEnd());
lines.push('', '## Raw figures', '', '```json', JSON.stringify(results, null, 2), '```', '');
if (only.length === 0 || previous) {
  writeFileSync(join(root, 'BENCHMARKS.md'), lines.join('\n'));
  console.log('written to BENCHMARKS.md');
}
