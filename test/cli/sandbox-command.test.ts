/**
 * `sandbox --config`: the local Pachca with the page's Jobs view; "Run now" runs a job into it
 * through the real pipeline, with a throwaway ledger.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { makeProject, spawnCli, waitFor, type Project, type Spawned } from '../helpers/project.js';

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
});
