// Reading a config job by job must be indistinguishable from reading it whole: the same values,
// positions, secrets and errors. Each case is read both ways and compared, path by path.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFromText } from '../../src/config/load.js';
import { PiecewiseYaml, splitJobs, WholeYaml, type ConfigYaml } from '../../src/config/yaml-pieces.js';
import type { PathSegment } from '../../src/config/yaml.js';
import { DigestError } from '../../src/errors.js';
import { MINIMAL, project } from './helpers.js';

const root = join(import.meta.dirname, '../..');
const ENV = { PACHCA_TOKEN: 'tok-123456', DB_PASSWORD: 'hunter22', CHAT: '42', LABEL: 'отчёт' };

const CASES: Record<string, string> = {
  repository: readFileSync(join(root, 'jobs.config.yaml'), 'utf8'),
  minimal: MINIMAL,
  'list at column 0, keys after it, comments and a block scalar': `version: 1
jobs:
- name: a
  schedule: "0 9 * * *"
  # a comment inside the job
  source: { type: static, data: { n: 1 } }
  template_inline: |
    Первая строка

      с отступом
  target:
    chat_id: \${CHAT}
# between the jobs
- name: b
  schedule: 0 10 * * 1-5
  source:
    type: static
    data: { url: "postgres://u:\${DB_PASSWORD}@db/x" }
  template_inline: "{{metrics.url}} \${LABEL}"
  target: { chat_id: 7 }
defaults:
  timezone: Europe/Moscow
`,
  'indented list with trailing spaces, blank lines and a keep-chomped scalar': `version: 1
defaults:
  timezone: UTC
jobs:   # the jobs

  - name: one
    schedule: "*/5 * * * *"
    source: { type: static, data: {} }
    template_inline: |+
      hello
${'      '}
    target: { chat_id: 1 }

  -   name: two
      schedule: "0 0 * * *"
      source: { type: static, data: { list: [1, 2, { x: y }] } }
      template_inline: >-
        folded
        text
      target: { user_id: 5 }
`,
};

/** Every path to a value in a plain value tree. */
function paths(value: unknown, prefix: PathSegment[] = []): PathSegment[][] {
  const out: PathSegment[][] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function read(text: string): { whole: WholeYaml; pieces: PiecewiseYaml } {
  const split = splitJobs(text);
  expect(split, 'the case should be cut into jobs').not.toBeNull();
  const whole = new WholeYaml(text);
  const pieces = new PiecewiseYaml(split!);
  for (const y of [whole, pieces] as ConfigYaml[]) {
    expect(y.problems).toEqual([]);
    expect(y.interpolate(ENV)).toEqual([]);
  }
  return { whole, pieces };
}

describe('a config read job by job', () => {
  for (const [name, text] of Object.entries(CASES)) {
    it(`reads like the whole document: ${name}`, () => {
      const { whole, pieces } = read(text);
      const all = whole.values() as { jobs: unknown[] };
      const top = pieces.values() as { jobs: unknown[] };
      expect({ ...top, jobs: all.jobs.map((_, i) => pieces.job(top, i)) }).toEqual(all);
      for (const path of paths(all)) {
        const where = path.join('.');
        expect(pieces.positionOf(path), where).toEqual(whole.positionOf(path));
        expect(pieces.positionOf(path, { key: true }), where).toEqual(whole.positionOf(path, { key: true }));
        expect(pieces.isSecretNode(path), where).toBe(whole.isSecretNode(path));
        expect(pieces.lookup(path).exact, where).toBe(whole.lookup(path).exact);
      }
      // Asked out of order (a late question about an earlier job): the same answers.
      const last = all.jobs.length - 1;
      expect(pieces.positionOf(['jobs', last, 'name'])).toEqual(whole.positionOf(['jobs', last, 'name']));
      expect(pieces.positionOf(['jobs', 0, 'name'])).toEqual(whole.positionOf(['jobs', 0, 'name']));
      expect([...pieces.secrets].sort()).toEqual([...whole.secrets].sort());
    });
  }

  it('loads the repository config to the same result either way', async () => {
    const dir = root;
    const text = CASES.repository!;
    const file = join(dir, 'jobs.config.yaml');
    const ways: string[] = [];
    const piecewise = await loadConfigFromText(text, { file, cwd: dir, env: ENV, onRead: (how) => ways.push(how) });
    const whole = await loadConfigFromText(text, { file, cwd: dir, env: ENV, oneDocument: true, onRead: (how) => ways.push(how) });
    expect(ways).toEqual(['pieces', 'whole']);
    expect(piecewise.jobs.length).toBeGreaterThan(5);
    const plain = (c: typeof whole) => JSON.parse(JSON.stringify({ ...c, secrets: [...(c.secrets ?? [])].sort() }));
    expect(plain(piecewise)).toEqual(plain(whole));
  });

  it.each([
    ['an unset variable and an unknown key', `${MINIMAL}  - name: second
    schedule: "0 9 * * *"
    source: { type: static, data: { x: \${NOT_SET} } }
    template: daily.hbs
    target: { chat_idd: 1 }
`],
    ['a syntax error in a later job', `${MINIMAL}  - name: second
    schedule: [oops
    template: daily.hbs
`],
  ])('reports %s exactly as the whole document does', async (_name, text) => {
    const dir = project(text);
    const errorOf = async (oneDocument: boolean) => {
      const ways: string[] = [];
      const err = await loadConfigFromText(text, { file: join(dir, 'jobs.config.yaml'), cwd: dir, env: {}, oneDocument, onRead: (h) => ways.push(h) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DigestError);
      return { ways, err: err as DigestError };
    };
    const a = await errorOf(false);
    const b = await errorOf(true);
    // Job by job gave up at the broken job; the whole document reported it.
    expect(a.ways).toEqual(['pieces', 'whole']);
    expect(b.ways).toEqual(['whole']);
    expect(a.err.message).toBe(b.err.message);
    const details = (e: DigestError) => e.details?.map((d) => [d.message, d.hint, d.location]);
    expect(details(a.err)).toEqual(details(b.err));
    expect(a.err.details?.every((d) => (d.location?.line ?? 0) > 10)).toBe(true);
  });

  it('gives up on anchors shared between jobs, and the whole document resolves them', async () => {
    const text = `version: 1
jobs:
  - name: a
    schedule: "0 9 * * *"
    source: &src { type: static, data: { n: 1 } }
    template: daily.hbs
    target: { chat_id: 1 }
  - name: b
    schedule: "0 9 * * *"
    source: *src
    template: daily.hbs
    target: { chat_id: 2 }
`;
    const ways: string[] = [];
    const dir = project(text);
    const cfg = await loadConfigFromText(text, { file: join(dir, 'jobs.config.yaml'), cwd: dir, env: {}, onRead: (h) => ways.push(h) });
    expect(ways).toEqual(['pieces', 'whole']);
    expect(cfg.jobs.map((j) => j.sources[0]?.options)).toEqual([{ data: { n: 1 } }, { data: { n: 1 } }]);
  });
});

describe('cutting the jobs list', () => {
  it('keeps every other line where it was', () => {
    const text = 'version: 1\njobs:\n  - name: a\n    x: 1\n\n  - name: b\n    x: 2\ndefaults: {}\n';
    const split = splitJobs(text)!;
    expect(split.indent).toBe(2);
    expect(split.items).toEqual([
      { line: 2, text: '- name: a\n  x: 1\n\n' },
      { line: 5, text: '- name: b\n  x: 2\n' },
    ]);
    expect(split.header.split('\n')).toEqual(['version: 1', 'jobs:', '', '', '', '', '', 'defaults: {}', '']);
  });

  it('ends the list at a comment left of it when a top-level key follows', () => {
    const split = splitJobs('jobs:\n  - name: a\n\n# next\nunfurl: {}\n')!;
    expect(split.items).toEqual([{ line: 1, text: '- name: a\n\n' }]);
    expect(split.header).toBe('jobs:\n\n\n# next\nunfurl: {}\n');
  });

  it.each([
    ['tabs', 'version: 1\njobs:\n  - name: a\n\tx: 1\n'],
    ['CR line ends', 'version: 1\r\njobs:\r\n  - name: a\r\n'],
    ['several documents', 'version: 1\njobs:\n  - name: a\n---\nx: 1\n'],
    ['a flow list', 'version: 1\njobs: [{ name: a }]\n'],
    ['no jobs key', 'version: 1\n'],
    ['jobs that are not a list', 'version: 1\njobs:\n  name: a\n'],
    ['two jobs keys', 'jobs:\n  - name: a\njobs:\n  - name: b\n'],
    ['a comment left of the items', 'version: 1\njobs:\n  - name: a\n# here\n  - name: b\n'],
    ['a comment left of the items, then a key', 'version: 1\njobs:\n  - name: a\n# here\n\n  x: 1\n'],
    ['a nested key under an indented list', 'version: 1\njobs:\n  - name: a\n  x: 1\n'],
  ])('leaves the file whole with %s', (_name, text) => {
    expect(splitJobs(text)).toBeNull();
  });
});
