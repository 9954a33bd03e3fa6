/**
 * `validate` reports what would fail on every run without running anything: unknown helpers and
 * wrong argument counts (from the template's AST and the helper table), a `plural` with too few
 * forms for the job's locale, and sources that can be checked locally (a `file` that is missing or
 * broken, a SQLite query that does not prepare, a `command` that is not on PATH). `validate
 * --render` renders every job against its real data and posts nothing.
 */
import { chmodSync, existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { makeProject, runCli, type Project } from '../helpers/project.js';

const projects: Project[] = [];
afterEach(() => {
  while (projects.length) projects.pop()!.cleanup();
});

const job = (name: string, source: string, template = 'daily.hbs', extra = '') => `  - name: ${name}
    schedule: "0 9 * * *"
    source:
${source.replace(/^/gm, '      ')}
    template: ${template}
    target: { chat_id: 1 }
${extra}`;

const STATIC = 'type: static\ndata: { count: 3, revenue: 10 }';

function project(jobs: string[], files: Record<string, string>): Project {
  const p = makeProject({ 'jobs.config.yaml': `version: 1\njobs:\n${jobs.join('')}`, ...files });
  projects.push(p);
  return p;
}

const validate = (p: Project, ...args: string[]) => runCli(['validate', ...args], { cwd: p.dir, timeoutMs: 60_000 });

describe('validate: templates, before any data', () => {
  it('an unknown helper is an E_TEMPLATE error at file:line with "did you mean"', async () => {
    const p = project([job('a', STATIC)], { 'templates/daily.hbs': 'Итого\n\nДоля: {{procent metrics.revenue}}\n' });
    const r = await validate(p);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('E_TEMPLATE templates/daily.hbs:3:7: unknown helper "procent"');
    expect(r.stderr).toContain('hint: did you mean "percent"?');
    expect(r.stdout).not.toContain('✓');
  });

  it('a helper with the wrong number of arguments, in a sub-expression and in a block', async () => {
    const p = project([job('a', STATIC), job('b', STATIC, 'b.hbs')], {
      'templates/daily.hbs': '{{#each (top metrics.rows)}}{{this}}{{/each}}\n',
      'templates/b.hbs': 'Шкала\n{{bar metrics.count}}\n',
    });
    const r = await validate(p);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('E_TEMPLATE templates/daily.hbs:1:9: top: expected 2–3 argument(s), got 1');
    expect(r.stderr).toContain('usage: {{#each (top array n ["key"])}}');
    expect(r.stderr).toContain('E_TEMPLATE templates/b.hbs:2:1: bar: expected 2–3 argument(s), got 1');
  });

  it('plural with one form fails for a ru-RU job and passes for a ja-JP one (the locale decides)', async () => {
    const tpl = { 'templates/daily.hbs': 'Заказов:\n{{plural metrics.count "заказ"}}\n' };
    const ru = await validate(project([job('ru', STATIC)], tpl));
    expect(ru.code).toBe(2);
    expect(ru.stderr).toContain('E_TEMPLATE templates/daily.hbs:2:1: plural: ru-RU needs 3 word forms (one, few, many), got 1');
    expect(ru.stderr).toContain('(in job "ru" (locale ru-RU))');
    expect(ru.stderr).toContain('hint: write {{plural n "задача" "задачи" "задач"}}');
    const ja = await validate(project([job('ja', STATIC, 'daily.hbs', '    locale: ja-JP\n')], tpl));
    expect(ja.stderr).toBe('');
    expect(ja.code).toBe(0);
  });
});

describe('validate: sources checked without running them', () => {
  it('a file source: a missing file, and broken JSON with its line and column', async () => {
    const p = project([job('missing', 'type: file\npath: data/nope.json'), job('broken', 'type: file\npath: data/sales.json')], {
      'templates/daily.hbs': 'x\n',
      'data/sales.json': '{\n  "count": 3,\n  "revenue": 10,,\n}\n',
    });
    const r = await validate(p);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('2 source problem(s)');
    expect(r.stderr).toMatch(/E_SOURCE jobs\.config\.yaml:\d+:\d+ \(jobs\[0\]\.source\): job "missing", source \(file\): file not found: .*data\/nope\.json/);
    expect(r.stderr).toMatch(/E_SOURCE .*data\/sales\.json:3:\d+: job "broken", source \(file\): .*invalid JSON/);
    expect(r.stdout).not.toContain('✓');
  });

  it('a SQLite source: the query must prepare against the real file (read only)', async () => {
    const p = project([job('db', 'type: sql\nurl: sqlite:shop.db\nquery: SELECT count(*) AS n FROM ordres')], { 'templates/daily.hbs': 'x\n' });
    const db = new Database(p.path('shop.db'));
    db.exec('CREATE TABLE orders (id INTEGER)');
    db.close();
    const r = await validate(p);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('job "db", source (sql): no such table: ordres');
    p.write('jobs.config.yaml', `version: 1\njobs:\n${job('db', 'type: sql\nurl: sqlite:shop.db\nquery: SELECT count(*) AS n FROM orders WHERE id > :min')}`);
    expect((await validate(p)).stderr).toContain('the query uses :min, which is not a parameter');
    p.write('jobs.config.yaml', `version: 1\njobs:\n${job('db', 'type: sql\nurl: sqlite:shop.db\nquery: SELECT count(*) AS n FROM orders')}`);
    const ok = await validate(p);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });

  it('a command source: the program must exist and be executable; nothing runs', async () => {
    const p = project(
      [job('gone', 'type: command\nargv: [no-such-program-pd16, x]'), job('noexec', 'type: command\nargv: [./report.sh]')],
      { 'templates/daily.hbs': 'x\n', 'report.sh': '#!/bin/sh\ntouch ran.txt\necho "{}"\n' },
    );
    const r = await validate(p);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('job "gone", source (command): program not found: no-such-program-pd16');
    expect(r.stderr).toMatch(/job "noexec", source \(command\): \.\/report\.sh is not executable: .*report\.sh/);
    chmodSync(p.path('report.sh'), 0o755);
    p.write('jobs.config.yaml', `version: 1\njobs:\n${job('ok', 'type: command\nargv: [./report.sh]')}${job('sh', 'type: command\nargv: [sh, -c, "echo {}"]')}`);
    const ok = await validate(p);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    // validate checked the program, it did not run it.
    expect(existsSync(p.path('ran.txt'))).toBe(false);
  });
});

describe('validate --render', () => {
  it('renders every enabled job against its real data; a failing one exits 1, nothing is posted', async () => {
    const p = project([job('good', 'type: file\npath: ok.json'), job('bad', 'type: file\npath: ok.json', 'bad.hbs')], {
      'templates/daily.hbs': 'Выручка: {{number metrics.revenue}}\n',
      // Compiles (a field may be missing until the data arrives), fails on the real data.
      'templates/bad.hbs': 'Выручка: {{metrics.revenu}}\n',
      'ok.json': '{ "revenue": 1200 }\n',
    });
    const plain = await validate(p);
    expect(plain.code).toBe(0);
    const r = await validate(p, '--render');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✓ good: renders 1 message(s)');
    expect(r.stderr).toContain('✗ bad: E_TEMPLATE templates/bad.hbs:1:');
    expect(r.stderr).toContain('did you mean "metrics.revenue"?');
    expect(r.stderr).toContain('1 job(s) failed to render; nothing was posted');
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});
