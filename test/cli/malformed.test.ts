/**
 * The malformed-config table from test/config, through the CLI: `validate` exits 2 and prints
 * `file:line` and the message. In-process through `main()` for the whole table (same code path as
 * the binary, minus process start-up), and as real child processes for a few, to check the exit code.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { BASE_FILES, MALFORMED_CASES } from '../config/malformed-cases.js';
import { makeProject, runCli, type Project } from '../helpers/project.js';

let project: Project | undefined;
afterEach(() => project?.cleanup());

function setup(c: (typeof MALFORMED_CASES)[number]): Project {
  project = makeProject({ ...BASE_FILES, ...c.files, 'jobs.config.yaml': c.yaml });
  return project;
}

function expectedWhere(c: (typeof MALFORMED_CASES)[number]): string {
  const file = c.expect.file ?? 'jobs.config.yaml';
  return `${file}:${c.expect.line}`;
}

describe('validate with a malformed config', () => {
  it.each(MALFORMED_CASES.map((c) => [c.name, c] as const))('%s → exit 2 with file:line', async (_n, c) => {
    const p = setup(c);
    let out = '';
    let err = '';
    const code = await main(['validate'], { out: (t) => (out += t), err: (t) => (err += t), env: c.env ?? {}, cwd: p.dir });
    expect(code, err).toBe(2);
    expect(err).toContain(expectedWhere(c));
    expect(err).toMatch(c.expect.message);
    expect(err).toMatch(/hint: /);
    expect(err).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/); // user errors never print a stack trace
    expect(out).toBe('');
  });

  it.each(MALFORMED_CASES.filter((_, i) => i % 8 === 0).map((c) => [c.name, c] as const))('child process: %s', async (_n, c) => {
    const p = setup(c);
    const r = await runCli(['validate'], { cwd: p.dir, env: c.env ?? {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(expectedWhere(c));
  });

  it('the built CLI: a YAML alias bomb is exit 2 with E_CONFIG at its line, no stack trace, at once', async () => {
    const bomb = MALFORMED_CASES.find((c) => c.name.startsWith('YAML alias bomb'))!;
    const p = setup(bomb);
    const started = Date.now();
    const r = await runCli(['validate'], { cwd: p.dir, env: {} });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('E_CONFIG jobs.config.yaml:7:15: aliases expand the config');
    expect(r.stderr).not.toMatch(/internal error|ReferenceError|\n\s+at .+:\d+:\d+\)?\n/);
    // Expanded, the bomb is 9^9 values: anything but a check before expanding would run out of memory or time.
    expect(Date.now() - started).toBeLessThan(15_000);
    const run = await runCli(['run-job', 'daily', '--dry-run'], { cwd: p.dir, env: {} });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('E_CONFIG');
  }, 40_000);

  it('a missing config file is exit 2 with a hint on how to point at one', async () => {
    project = makeProject({});
    const r = await runCli(['validate'], { cwd: project.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/jobs\.config\.yaml/);
    expect(r.stderr).toMatch(/--config|PACHCA_DIGEST_CONFIG/);
  });

  it('a usage error (unknown command) is exit 2', async () => {
    project = makeProject({});
    const r = await runCli(['frobnicate'], { cwd: project.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });
});
