// Start-up cost of a one-shot run: `run-job --dry-run` against a bare `node -e 0`, measured in the
// same process run, interleaved so machine noise hits both alike.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function time(args, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

export async function runStartupBench({ runs = 15, job = 'daily-sales', stripExtraCaCerts = false } = {}) {
  const env = { ...process.env };
  delete env.PACHCA_TOKEN;
  // NODE_EXTRA_CA_CERTS (set on some machines, this CI's included) makes every node start read a CA
  // bundle: it inflates the bare baseline, so the ratio is reported both ways.
  if (stripExtraCaCerts) delete env.NODE_EXTRA_CA_CERTS;
  // Two cores shared with other work: the 1-minute load says how much the figures are to be trusted.
  const loadAverageAtStart = Number(loadavg()[0].toFixed(1));
  const bare = [];
  const dry = [];
  // Warm the file cache once.
  time(['-e', '0'], env);
  time([join(root, 'dist/bin/pachca-digest.js'), 'run-job', job, '--dry-run'], env);
  for (let i = 0; i < runs; i++) {
    bare.push(time(['-e', '0'], env));
    dry.push(time([join(root, 'dist/bin/pachca-digest.js'), 'run-job', job, '--dry-run'], env));
  }
  const bareMs = median(bare);
  const dryMs = median(dry);
  return {
    runs,
    env: stripExtraCaCerts || !process.env.NODE_EXTRA_CA_CERTS ? 'without NODE_EXTRA_CA_CERTS' : 'with NODE_EXTRA_CA_CERTS (as set here)',
    bareNodeMs: round(bareMs),
    runJobDryRunMs: round(dryMs),
    ratio: round(dryMs / bareMs, 2),
    goal: '≤ 3×',
    loadAverageAtStart,
  };
}

const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await runStartupBench());
  if (process.env.NODE_EXTRA_CA_CERTS) console.log(await runStartupBench({ stripExtraCaCerts: true }));
}
