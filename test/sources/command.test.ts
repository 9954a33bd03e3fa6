import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import commandSource from '../../src/sources/builtin/command.js';
import { SourceError } from '../../src/sources/errors.js';
import { alive, gone } from '../helpers/processes.js';
import { run, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('pachca-digest-cmd-');
afterAll(cleanup);
const node = process.execPath;

describe('command source', () => {
  it('runs a program without a shell and parses its JSON stdout', async () => {
    const out = await run(commandSource, { argv: [node, '-e', 'console.log(JSON.stringify({ deploys: 3, args: process.argv.slice(1) }))', '{{period.startDate}}', '$HOME; rm -rf /'] });
    expect(out).toEqual({ deploys: 3, args: ['2026-11-25', '$HOME; rm -rf /'] });
  });

  it('passes only PATH, allowed and explicit variables', async () => {
    process.env.DIGEST_TEST_SECRET = 'nope';
    process.env.DIGEST_TEST_ALLOWED = 'yes';
    try {
      const out = await run(commandSource, {
        argv: [node, '-e', 'console.log(JSON.stringify(process.env))'],
        env_allow: ['DIGEST_TEST_ALLOWED', 'DIGEST_TEST_UNSET'],
        env: { REPORT_MODE: 'daily' },
      });
      expect(Object.keys(out).sort()).toEqual(['DIGEST_TEST_ALLOWED', 'PATH', 'REPORT_MODE']);
      expect(out).toMatchObject({ DIGEST_TEST_ALLOWED: 'yes', REPORT_MODE: 'daily', PATH: process.env.PATH });
    } finally {
      delete process.env.DIGEST_TEST_SECRET;
      delete process.env.DIGEST_TEST_ALLOWED;
    }
  });

  it('resolves a relative program and cwd against the config directory', async () => {
    writeFileSync(join(dir, 'report.sh'), '#!/bin/sh\necho "{\\"cwd\\": \\"$(pwd)\\"}"\n');
    chmodSync(join(dir, 'report.sh'), 0o755);
    expect(await run(commandSource, { argv: ['./report.sh'] }, { configDir: dir })).toEqual({ cwd: dir });
  });

  it('fails on a non-zero exit with the tail of stderr', async () => {
    const err = await run(commandSource, {
      argv: [node, '-e', 'console.error("x".repeat(5000)); console.error("database is down"); process.exit(3)'],
    }).catch((e: unknown) => e as SourceError);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toMatch(new RegExp(`^${node.replace(/[/.]/g, '\\$&')} exited with code 3: x+\\ndatabase is down$`));
    expect(err.message.length).toBeLessThan(1000);
  });

  it('explains output that is not JSON, too much output and a missing program', async () => {
    await expect(run(commandSource, { argv: [node, '-e', 'console.log("done: 3 deploys")'] })).rejects.toThrow(/did not print JSON: .*stdout starts with "done: 3 deploys"/);
    await expect(run(commandSource, { argv: [node, '-e', 'process.stdout.write("[" + "1,".repeat(100000) + "1]")'], max_output: 1000 })).rejects.toThrow(/printed more than 1000 B/);
    await expect(run(commandSource, { argv: ['./no-such-program'] }, { configDir: dir })).rejects.toThrow('cannot start ./no-such-program: not found');
  });

  it('kills the whole process tree when the signal aborts', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const script = join(dir, 'hang.sh');
    writeFileSync(script, `#!/bin/sh\nsleep 30 &\necho $! > ${pidFile}\nwait\n`);
    chmodSync(script, 0o755);
    const ac = new AbortController();
    const p = run(commandSource, { argv: [script] }, { signal: ac.signal });
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') await new Promise((r) => setTimeout(r, 20));
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(grandchild)).toBe(true);
    ac.abort(new Error('deadline'));
    await expect(p).rejects.toThrow('deadline');
    expect(await gone(grandchild)).toBe(true);
  });
});

describe('command source: a child left holding stdout', () => {
  it('resolves on the program exit and kills the child it left behind', async () => {
    const pidFile = join(dir, 'orphan.pid');
    // The program prints its JSON and exits; its `sleep 60` keeps the same stdout open.
    const script = join(dir, 'orphan.sh');
    writeFileSync(script, `#!/bin/sh\nsleep 60 &\necho $! > ${pidFile}\necho '{"deploys": 4}'\n`);
    chmodSync(script, 0o755);
    const started = Date.now();
    expect(await run(commandSource, { argv: [script] })).toEqual({ deploys: 4 });
    // Without resolving on exit this would wait for the sleep (60 s); generous for a loaded machine.
    expect(Date.now() - started).toBeLessThan(15_000);
    const orphan = Number(readFileSync(pidFile, 'utf8'));
    expect(await gone(orphan)).toBe(true);
  }, 30_000);

  it('keeps everything the program wrote before it exited', async () => {
    const script = join(dir, 'big-orphan.sh');
    // 300 KB of JSON (more than a pipe buffer) written, then exit, with a child holding stdout.
    writeFileSync(script, `#!/bin/sh\nsleep 60 &\n${node} -e 'process.stdout.write(JSON.stringify({ rows: Array.from({ length: 30000 }, (_, i) => i) }))'\n`);
    chmodSync(script, 0o755);
    const out = await run(commandSource, { argv: [script] });
    expect(out.rows).toHaveLength(30000);
  }, 30_000);
});
