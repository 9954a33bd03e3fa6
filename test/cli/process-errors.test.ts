/**
 * What a newcomer meets when a port is taken or stdout closes early: one usage line and exit 2,
 * never a hang or a stack trace (the built CLI as a child process, a real listening socket).
 */
import { createServer, type Server } from 'node:net';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanEnv, makeProject, runCli, type Project } from '../helpers/project.js';

const STACK = /\n\s+at .+:\d+:\d+/;
let busy: Server;
let port: number;
let project: Project;

beforeAll(async () => {
  busy = createServer();
  // On every address: both the sandbox's 127.0.0.1 and the health server's 0.0.0.0 collide with it.
  await new Promise<void>((r) => busy.listen(0, () => r()));
  port = (busy.address() as { port: number }).port;
  project = makeProject({
    'jobs.config.yaml': [
      'version: 1',
      'jobs:',
      '  - name: hello',
      '    schedule: "0 9 * * *"',
      '    source: { type: static, data: { who: мир } }',
      '    template: hello.hbs',
      '    target: { chat_id: 101 }',
      '',
    ].join('\n'),
    'templates/hello.hbs': 'Привет, {{metrics.who}}\n',
  });
});
afterAll(async () => {
  await new Promise((r) => busy.close(r));
  project.cleanup();
});

describe('a busy port is a usage error', () => {
  it('sandbox --port <busy>: exit 2, names the port and the flag, no stack', async () => {
    const r = await runCli(['sandbox', '--port', String(port)], { cwd: project.dir, timeoutMs: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`port ${port} is in use; pick another with --port`);
    expect(r.stderr + r.stdout).not.toMatch(STACK);
    expect(r.stderr).not.toContain('internal error');
  });

  it('sandbox --config --port <busy>: the same, after the config loaded', async () => {
    const r = await runCli(['--config', 'jobs.config.yaml', 'sandbox', '--port', String(port)], { cwd: project.dir, timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`port ${port} is in use; pick another with --port`);
  });

  it('run --http-port <busy> without a token: exits (does not hang on the sandbox it started), exit 2', async () => {
    const r = await runCli(['run', '--http-port', String(port)], { cwd: project.dir, timeoutMs: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`port ${port} is in use; pick another with --http-port`);
    expect(r.stderr + r.stdout).not.toMatch(STACK);
  });

  it('a port that is not a number is refused before anything starts', async () => {
    const r = await runCli(['sandbox', '--port', '80a'], { cwd: project.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--port "80a" is not a port number');
  });
});

describe('a closed stdout', () => {
  it('schema | head -1 ends quietly', async () => {
    const child = spawn(process.execPath, [CLI, 'schema'], { cwd: project.dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // The reader takes the first chunk and goes away, as `head -1` does.
    child.stdout.once('data', () => child.stdout.destroy());
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('close', (c, s) => r([c, s])));
    expect(signal).toBeNull();
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
