/**
 * The README's first ten minutes, in order, on a fresh copy of the shipped config: the Quick start
 * (twice), `history`, a running `sandbox` and a delivery into it, `render`, `validate`, `list`.
 * Every command exits as documented, every printed URL answers 200 from a running sandbox, and no
 * output holds a stack trace.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, spawnCli, waitFor, type CliResult, type Spawned } from '../helpers/project.js';

const STACK = /\n\s+at .+:\d+:\d+\)?/;
const URL_RE = /https?:\/\/[^\s)"'`]+/g;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

let dir: string;
let sandbox: Spawned | undefined;
/** The running sandbox's origin (set by the test that starts it). */
let origin = '';
const outputs: string[] = [];

async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const r = await runCli(args, { cwd: dir, env, timeoutMs: 60_000 });
  outputs.push(`$ ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  expect(r.signal, r.stderr).toBeNull();
  return r;
}

/** URLs a user would open: the sandbox's own, not example links inside the digests. */
const sandboxUrls = (text: string) => (text.match(URL_RE) ?? []).filter((u) => u.startsWith('http://127.0.0.1:'));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pachca-digest-newcomer-'));
  for (const p of ['jobs.config.yaml', 'templates', 'examples']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
});
afterAll(async () => {
  if (sandbox && sandbox.child.exitCode === null) {
    sandbox.child.kill('SIGTERM');
    await sandbox.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('a newcomer following the README', () => {
  it('Quick start: the digest goes to the built-in sandbox, and no link is printed to a sandbox that is gone', async () => {
    const r = await cli(['run-job', 'daily-sales']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✓ chat:103: message 1 (in the built-in sandbox, which stops with this command)');
    expect(sandboxUrls(r.stdout)).toEqual([]);
    expect(r.stderr).toContain('recorded in the sandbox ledger .pachca-digest/sandbox-state.db');
    expect(r.stderr).toMatch(/To open digests in a browser: npx pachca-digest --config .* sandbox/);
    // The built-in sandbox is the preview one, and says so: the real API is stricter.
    expect(r.stderr).toContain('Pachca sandbox in preview mode: it accepts any token and creates any chat id');
  });

  it('running the Quick start again does not post twice: the slot is done in the sandbox ledger', async () => {
    const r = await cli(['run-job', 'daily-sales']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('✓');
    expect(r.stderr).toMatch(/already succeeded at \S+Z; nothing to do/);
    // The log line says it is done, and when: not that another process claimed it.
    expect(r.stderr).toMatch(/slot already done \(run 1, succeeded at 20\S+Z\)/);
    expect(r.stderr).not.toContain('claimed by another process');
  });

  it('history lists the sandbox run and says why its message has no link', async () => {
    const r = await cli(['history']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('from the sandbox ledger');
    expect(r.stdout).toMatch(/daily-sales .* succeeded .* #1†/);
    expect(r.stdout).toContain('† posted to a sandbox that has stopped');
    expect(r.stdout).not.toContain('no runs recorded yet');
  });

  it('a running sandbox: its printed URLs, and the message links of a delivery into it, answer 200', async () => {
    const port = await freePort();
    sandbox = spawnCli(['--config', 'jobs.config.yaml', 'sandbox', '--port', String(port)], { cwd: dir });
    const banner = await waitFor(() => (/API base URL: (\S+)/.test(sandbox!.stdout()) ? sandbox!.stdout() : null), { what: 'sandbox banner' });
    const apiUrl = /API base URL: (\S+)/.exec(banner)![1]!;
    origin = new URL(apiUrl).origin;
    expect(sandbox.stderr()).toContain('Pachca sandbox in preview mode');
    // The API base URL is a setting to export, not a page (Pachca's own answers 404 there too).
    const printed = sandboxUrls(banner).filter((u) => u !== apiUrl);
    expect(printed.length).toBeGreaterThanOrEqual(2);
    for (const u of printed) expect((await fetch(u)).status, u).toBe(200);

    const r = await cli(['run-job', 'weekly-oncall'], { PACHCA_API_URL: apiUrl });
    expect(r.code).toBe(0);
    const links = sandboxUrls(r.stdout);
    expect(links.length).toBeGreaterThan(0);
    for (const u of links) {
      expect(u).toMatch(/\/chats\/\d+#message-\d+$/);
      const res = await fetch(u);
      expect(res.status, u).toBe(200);
      expect(await res.text()).toContain('/__web/app.js');
    }

    const h = await cli(['history']);
    expect(h.code).toBe(0);
    const historyLinks = sandboxUrls(h.stdout);
    expect(historyLinks).toEqual(expect.arrayContaining(links));
    for (const u of historyLinks) expect((await fetch(u)).status, u).toBe(200);
  });

  it('«🔄 Обновить» under the daily-sales digest, clicked as the web view does: the digest is collected again and edited in place', async () => {
    expect(origin, 'the running sandbox (previous test)').not.toBe('');
    const api = async <T>(path: string, body?: unknown): Promise<{ status: number; data: T }> => {
      const res = await fetch(`${origin}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, data: ((await res.json()) as { data: T }).data };
    };
    // «Задания» → «Запустить сейчас», as the README says.
    const run = await api<{ status: string; messageIds: number[] }>('/__web/api/jobs/run', { name: 'daily-sales' });
    expect(run).toMatchObject({ status: 200, data: { status: 'succeeded' } });
    const id = run.data.messageIds[0]!;
    type Shown = { id: number; content: string; changed_at: string | null; buttons: Array<Array<{ text: string; data?: string; url?: string }>> | null; files?: unknown[] };
    const shown = async () => (await api<Shown[]>('/__sandbox/messages?chat_id=103')).data.find((m) => m.id === id)!;
    const before = await shown();
    expect(before.content).toMatch(/Выручка: \*\*6\s323\s801\s₽/);
    expect(before.changed_at).toBeNull();
    expect(before.files, 'the chart and the table card').toHaveLength(2);
    const refresh = before.buttons!.flat().find((b) => b.text === '🔄 Обновить');
    expect(refresh?.data, 'the shipped digest has a refresh button').toMatch(/^pd1\|r\|daily-sales\|/);

    // New numbers in the export (Moscow +1 000 000 ₽), then the click the page sends.
    const csv = join(dir, 'examples/data/sales-by-region.csv');
    writeFileSync(csv, readFileSync(csv, 'utf8').replace('Москва,Анна Смирнова,101,184,2456300.50', 'Москва,Анна Смирнова,101,184,3456300.50'));
    const click = await api<{ event_type: string }>('/__sandbox/bot/click', { message_id: id, data: refresh!.data });
    expect(click).toMatchObject({ status: 201, data: { event_type: 'button_click' } });
    const after = await waitFor(async () => {
      const m = await shown();
      return m.changed_at !== null ? m : undefined;
    }, { what: 'the refreshed digest', timeoutMs: 30_000 });
    expect(after.content).toMatch(/Выручка: \*\*7\s323\s801\s₽/);
    expect(after.content).toContain('🏆 Лидер — Москва (Анна Смирнова): 3');
    // Edited in place: the same message, its buttons and files kept, nothing new posted in the chat.
    expect(after.buttons).toEqual(before.buttons);
    expect(after.files).toEqual(before.files);
    expect((await api<Shown[]>('/__sandbox/messages?chat_id=103')).data.filter((m) => m.content.includes('Продажи за'))).toHaveLength(1);
    // The event was taken from the bot's history: a later poll does nothing more.
    await waitFor(async () => (await api<{ history: number }>('/__sandbox/bot')).data.history === 0, { what: 'the event history drained' });
  });

  it('render, validate and list work on the shipped config', async () => {
    const render = await cli(['render', 'daily-sales']);
    expect(render.code).toBe(0);
    expect(render.stdout).toContain('Продажи за');
    const validate = await cli(['validate']);
    expect(validate.code).toBe(0);
    // For CI: every enabled shipped job renders against its real (local) data.
    const rendered = await cli(['validate', '--render']);
    expect(rendered.code, rendered.stderr).toBe(0);
    expect(rendered.stdout).toContain('✓ daily-sales: renders 1 message(s)');
    const list = await cli(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('daily-sales');
  });

  it('no command printed a stack trace', () => {
    for (const o of outputs) expect(o).not.toMatch(STACK);
    expect(outputs.join('\n')).not.toContain('internal error');
  });
});
