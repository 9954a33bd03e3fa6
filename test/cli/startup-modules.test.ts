// What a one-shot `run-job --dry-run` of the bundled binary loads: start-up is part of every
// digest a Kubernetes CronJob sends, so a command must not pay for what it does not use. A module
// count, not a timing: it cannot flake on a loaded machine (timings live in bench/startup.mjs).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { moduleProbe } from '../helpers/module-probe.js';

const root = resolve(__dirname, '../..');
const bin = join(root, 'dist/bin/pachca-digest.js');

interface Loaded {
  status: number | null;
  stdout: string;
  /** Node builtins the run loaded (beyond what `node -e 0` has). */
  builtins: string[];
  /** What the run required through Node's loader (the externals: drivers, undici, resvg, and builtins). */
  requests: string[];
  /** dist/bin files the run evaluated. */
  chunks: string[];
}

function dryRun(): Loaded {
  const dir = mkdtempSync(join(tmpdir(), 'pd-startup-'));
  try {
    const probe = moduleProbe(dir);
    const env = { ...process.env };
    for (const name of ['PACHCA_TOKEN', 'PACHCA_API_URL', 'PACHCA_DIGEST_CONFIG', 'PACHCA_DIGEST_STATE', 'NODE_OPTIONS']) delete env[name];
    const r = spawnSync(process.execPath, ['-r', probe.preload, bin, 'run-job', 'daily-sales', '--dry-run'], { cwd: root, env, encoding: 'utf8' });
    const { builtins, requests, chunks } = probe.read();
    return { status: r.status, stdout: r.stdout, builtins, requests, chunks };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The CommonJS packages bundled into the files a run evaluated (esbuild names each module by its path). */
function bundledPackages(chunks: string[]): Set<string> {
  const out = new Set<string>();
  for (const file of chunks) {
    for (const m of readFileSync(file, 'utf8').matchAll(/^\s*"node_modules\/((?:@[^/"]+\/)?[^/"]+)\//gm)) out.add(m[1]!);
  }
  return out;
}

describe.skipIf(!existsSync(bin))('bundled binary: what a dry run loads', () => {
  it('renders the digest without the daemon, the drivers, HTTP, logging, metrics, child processes or source maps', () => {
    const run = dryRun();
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/message 1\/1 → chat_id 103/);

    // Externals: none of them (undici comes with an HTTP source, the drivers with a ledger or a SQL source).
    expect(run.requests.filter((r) => /^(undici|pg|pg-native|better-sqlite3|@resvg\/resvg-js|playwright-core|esbuild)$/.test(r))).toEqual([]);
    // commander's executable subcommands and dotenv's vault decryption are never used here.
    expect(run.builtins).not.toContain('child_process');
    expect(run.builtins.filter((b) => /^(http|https|http2|tls|zlib|worker_threads|dgram)$/.test(b))).toEqual([]);

    const packages = bundledPackages(run.chunks);
    // The scan sees the bundled CommonJS packages the run does use...
    for (const used of ['handlebars', 'commander', 'dotenv', 'yaml']) expect(packages).toContain(used);
    // ...and none that it does not: logging (a dry run prints, it does not log), metrics, JSONata,
    // and handlebars' optional source-map (its own string builder makes the same code).
    for (const unused of ['source-map', 'pino', 'thread-stream', 'sonic-boom', 'prom-client', 'jsonata']) {
      expect(packages).not.toContain(unused);
    }

    // zod (ESM, so no package marker above) keeps its English messages only: its index re-exports
    // 40-odd locales (half its code), which no command selects. esbuild names each locale module's
    // default export after its file (ru.js → ru_default); English must be there, the others not.
    const zodLocales = run.chunks.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/^function (en|ru|de|fr|uk|ja|zh_CN)_default\(/gm)].map((m) => m[1]));
    expect(zodLocales).toEqual(['en']);
  });
});
