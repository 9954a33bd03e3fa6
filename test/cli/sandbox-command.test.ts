/**
 * `sandbox --config`: the local Pachca with the page's Jobs view; "Run now" runs a job into it
 * through the real pipeline, with a throwaway ledger.
 */
import { cpSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeProject, ROOT, spawnCli, waitFor, type Project, type Spawned } from '../helpers/project.js';

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

let project: Project | undefined;
let proc: Spawned | undefined;
afterEach(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  project?.cleanup();
});

describe('sandbox --config', () => {
  it('lists the jobs with next runs, runs one on demand into itself, and stops on SIGTERM', async () => {
    project = makeProject({
      'jobs.config.yaml': [
        'version: 1',
        'jobs:',
        '  - name: hello',
        '    description: Проверка',
        '    schedule: "0 9 * * *"',
        '    source: { type: static, data: { who: мир } }',
        '    template: hello.hbs',
        '    target: { chat_id: 101 }',
      ].join('\n'),
      'templates/hello.hbs': 'Привет, **{{metrics.who}}**!\n',
    });
    const port = await freePort();
    proc = spawnCli(['sandbox', '--port', String(port), '--config', 'jobs.config.yaml'], { cwd: project.dir });
    const origin = `http://127.0.0.1:${port}`;
    await waitFor(() => proc!.stdout().includes(origin), { what: 'the sandbox banner' });

    const jobs = (await (await fetch(`${origin}/__web/api/jobs`)).json()) as { data: Array<{ name: string; next: string[]; scheduleText: string }> };
    expect(jobs.data).toHaveLength(1);
    expect(jobs.data[0]!.name).toBe('hello');
    expect(jobs.data[0]!.next).toHaveLength(3);
    expect(jobs.data[0]!.scheduleText).toBe('every day at 09:00');

    const res = await fetch(`${origin}/__web/api/jobs/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"hello"}' });
    const run = (await res.json()) as { data: { status: string; messageIds: number[] } };
    expect(run.data.status).toBe('succeeded');
    expect(run.data.messageIds).toHaveLength(1);
    const messages = (await (await fetch(`${origin}/__sandbox/messages?chat_id=101`)).json()) as { data: Array<{ content: string }> };
    expect(messages.data.map((m) => m.content)).toEqual(['Привет, **мир**!']);

    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  });

  it("the shipped config's unfurl rule: a report link written in a chat gets the day's numbers as a card", async () => {
    project = makeProject({});
    for (const f of ['jobs.config.yaml', 'templates', 'examples']) cpSync(join(ROOT, f), join(project.dir, f), { recursive: true });
    const port = await freePort();
    proc = spawnCli(['sandbox', '--port', String(port), '--config', 'jobs.config.yaml'], { cwd: project.dir });
    const origin = `http://127.0.0.1:${port}`;
    await waitFor(() => proc!.stdout().includes(origin), { what: 'the sandbox banner', timeoutMs: 30_000 });
    const link = 'https://bi.example.ru/sales/daily?date=2026-11-30';
    const res = await fetch(`${origin}/__sandbox/chats/103/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content: `Отчёт: ${link}` }) });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { data: { id: number } }).data.id;
    const card = await waitFor(
      async () => {
        const state = (await (await fetch(`${origin}/__web/api/state?chat_id=103`)).json()) as { chat: { messages: Array<{ id: number; previews: Array<{ url: string; title: string }> }> } };
        return state.chat.messages.find((m) => m.id === id)?.previews[0];
      },
      { what: 'the preview card', timeoutMs: 30_000 },
    );
    expect(card.url).toBe(link);
    expect(card.title).toMatch(/30 ноября/);
    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  });

  it('a click on an action button in the page is answered: «Принято» edits the message', async () => {
    project = makeProject({
      'jobs.config.yaml': [
        'version: 1',
        'jobs:',
        '  - name: queue',
        '    schedule: "0 9 * * *"',
        '    source: { type: static, data: { n: 140 } }',
        '    template: q.hbs',
        '    target:',
        '      chat_id: 101',
        '      buttons:',
        '        - - { text: "✅ Принято", action: acknowledge }',
      ].join('\n'),
      'templates/q.hbs': 'Очередь: {{metrics.n}}\n',
    });
    const port = await freePort();
    proc = spawnCli(['sandbox', '--port', String(port), '--config', 'jobs.config.yaml'], { cwd: project.dir });
    const origin = `http://127.0.0.1:${port}`;
    await waitFor(() => proc!.stdout().includes(origin), { what: 'the sandbox banner' });
    const run = (await (await fetch(`${origin}/__web/api/jobs/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"queue"}' })).json()) as { data: { messageIds: number[] } };
    const id = run.data.messageIds[0]!;
    const messageData = async () => {
      const list = (await (await fetch(`${origin}/__sandbox/messages?chat_id=101`)).json()) as { data: Array<{ id: number; content: string; buttons: unknown[][] | null }> };
      return list.data.find((m) => m.id === id)!;
    };
    const button = (await messageData()).buttons![0]![0] as { data: string };
    const click = await fetch(`${origin}/__sandbox/bot/click`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message_id: id, data: button.data }) });
    expect(click.status).toBe(201);
    const edited = await waitFor(async () => {
      const m = await messageData();
      return /Принято/.test(m.content) ? m : undefined;
    }, { what: 'the acknowledged message', timeoutMs: 30_000 });
    expect(edited.content).toMatch(/^Очередь: 140/);
    expect(edited.buttons ?? []).toEqual([]);
    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  });
});
