#!/usr/bin/env node
/**
 * Regenerates docs/sandbox.png, the README's picture of the sandbox web view.
 *
 *   npm run build && node scripts/screenshot.mjs [out.png]
 *
 * What a newcomer gets from the Quick start, not a staged scene: the built CLI runs
 * `sandbox --config jobs.config.yaml` on a temporary copy of the shipped config, every enabled job
 * is run through the page's own «Запустить сейчас» endpoint, and headless Chromium saves a 1280×800
 * screenshot of the «Продажи» chat (daily-sales). Emoji need a colour emoji font (Debian:
 * fonts-noto-color-emoji). Chromium: $PACHCA_DIGEST_TEST_CHROMIUM or
 * /usr/bin/chromium.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? `${root}/docs/sandbox.png`);
const executablePath = process.env.PACHCA_DIGEST_TEST_CHROMIUM || '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(`No Chromium at ${executablePath}: install it or set PACHCA_DIGEST_TEST_CHROMIUM.`);
  process.exit(1);
}
const cli = `${root}/dist/bin/pachca-digest.js`;
if (!existsSync(cli)) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(1);
}
/** The chat the picture opens: daily-sales posts to «Продажи» (103) in the shipped config. */
const CHAT = 103;

const port = await new Promise((res, rej) => {
  const srv = createServer();
  srv.once('error', rej);
  srv.listen(0, '127.0.0.1', () => {
    const p = srv.address().port;
    srv.close(() => res(p));
  });
});

// A copy, so the sandbox ledger (.pachca-digest/) is not written into the checkout.
const dir = mkdtempSync(join(tmpdir(), 'pachca-digest-screenshot-'));
for (const p of ['jobs.config.yaml', 'templates', 'examples']) cpSync(join(root, p), join(dir, p), { recursive: true });
const env = { ...process.env, NO_COLOR: '1' };
for (const k of ['PACHCA_TOKEN', 'PACHCA_API_URL', 'PACHCA_DIGEST_CONFIG', 'PACHCA_DIGEST_STATE']) delete env[k];
const child = spawn(process.execPath, [cli, '--config', 'jobs.config.yaml', 'sandbox', '--port', String(port)], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
const origin = await new Promise((res, rej) => {
  let text = '';
  child.stdout.on('data', (d) => {
    text += d;
    const m = /Pachca sandbox: (http:\/\/\S+)/.exec(text);
    if (m) res(m[1].replace(/\/$/, ''));
  });
  child.once('exit', (code) => rej(new Error(`the sandbox exited (${code}) before it started:\n${text}`)));
});

async function runNow(name) {
  const res = await fetch(`${origin}/__web/api/jobs/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ name }),
  });
  const body = await res.json();
  if (!res.ok || body.data?.status === 'failed' || body.data?.status === 'error') throw new Error(`run ${name}: ${res.status} ${JSON.stringify(body)}`);
  return body.data;
}

let browser;
try {
  const jobs = (await (await fetch(`${origin}/__web/api/jobs`)).json()).data;
  for (const job of jobs.filter((j) => j.enabled)) {
    const r = await runNow(job.name);
    console.log(`${job.name}: ${r.status}, ${r.messageIds.length} message(s)`);
  }

  browser = await chromium.launch({
    executablePath,
    headless: true,
    timeout: 90_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ru-RU', timezoneId: 'Europe/Moscow' });
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
  const page = await context.newPage();
  await page.goto(`${origin}/#chat-${CHAT}`);
  await page.waitForSelector('.live.on');
  await page.waitForSelector('.ep-row[data-endpoint="POST /messages"]');
  // Let the "new message" highlight fade before the picture is taken.
  await page.waitForTimeout(2500);
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser?.close();
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r()));
  rmSync(dir, { recursive: true, force: true });
}
