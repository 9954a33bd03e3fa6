// `npm run bench`: every speed and memory target of the project, measured in one run, written to
// BENCHMARKS.md with the machine and the command. Not part of `npm test`.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStartupBench } from './startup.mjs';
import { runScaleBench } from './scale.mjs';
import { runClientBench } from './client.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);
const results = {};

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
if (want('scale')) {
  console.log('scale: 1,000 jobs due in the same minute on one daemon …');
  results.scale = await runScaleBench();
  console.log(JSON.stringify(results.scale, null, 2));
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}`;
const md = [
  '# Benchmarks',
  '',
  `Produced by \`npm run bench\` (${new Date().toISOString()}) on: ${machine}.`,
  'Ratios compare figures measured in the same run; absolute times vary with the machine.',
  '',
  '```json',
  JSON.stringify(results, null, 2),
  '```',
  '',
].join('\n');
if (only.length === 0) {
  writeFileSync(join(root, 'BENCHMARKS.md'), md);
  console.log('written to BENCHMARKS.md');
}
