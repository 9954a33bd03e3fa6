/**
 * Malformed configurations and the problem each must report. Shared with the CLI tests (the lead
 * runs the same table through `pachca-digest validate`: exit code 2, `file:line` printed).
 *
 * Every case is self-contained: write `files` (paths relative to the config directory) and `yaml`
 * as `jobs.config.yaml`, then load with `env` as the whole environment.
 */
export interface MalformedCase {
  name: string;
  yaml: string;
  files?: Record<string, string>;
  env?: Record<string, string>;
  expect: {
    /** Line of the problem; in `file` when given, else in jobs.config.yaml. */
    line: number;
    column?: number;
    /** Path inside the config, e.g. `jobs[0].schedule`. */
    path?: string;
    message: RegExp;
    hint?: RegExp;
    /** The file the problem points into when it is not the config (relative to the config dir). */
    file?: string;
    /** Total number of problems reported, when the case checks it. */
    problems?: number;
  };
}

export const BASE_FILES: Record<string, string> = {
  'templates/daily.hbs': '**Сводка**\nЗадач: {{metrics.count}}\n',
};

/** A valid job, indented as a list item under `jobs:`; `extra` lines are added to it. */
function job(extra = '', opts: { name?: string; source?: string; target?: string } = {}): string {
  const source = opts.source ?? '    source:\n      type: static\n      data: { count: 3 }\n';
  const target = opts.target ?? '    target:\n      chat_id: 123\n';
  return `  - name: ${opts.name ?? 'daily'}\n    schedule: "0 9 * * 1-5"\n${source}    template: daily.hbs\n${target}${extra}`;
}

const head = 'version: 1\njobs:\n';

export const MALFORMED_CASES: MalformedCase[] = [
  {
    name: 'YAML syntax error',
    yaml: `version: 1\njobs:\n  - name: daily\n    schedule: "0 9 * * 1-5\n    template: daily.hbs\n`,
    expect: { line: 4, message: /YAML syntax error/ },
  },
  {
    name: 'duplicate YAML key',
    yaml: `version: 1\nversion: 1\njobs:\n${job()}`,
    expect: { line: 2, message: /duplicate key/, hint: /remove or rename/ },
  },
  {
    name: 'empty file',
    yaml: '# nothing here\n',
    expect: { line: 1, message: /empty/, hint: /version: 1/ },
  },
  {
    name: 'unknown top-level key (did you mean)',
    yaml: `version: 1\npachka:\n  token: x\njobs:\n${job()}`,
    expect: { line: 2, column: 1, path: 'pachka', message: /unknown key "pachka"/, hint: /did you mean "pachca"/ },
  },
  {
    name: 'unknown job key',
    yaml: head + job('    shedule_tz: UTC\n    templte: x.hbs\n'),
    expect: { line: 12, column: 5, path: 'jobs[0].templte', message: /unknown key "templte"/, hint: /did you mean "template"/ },
  },
  {
    name: 'wrong version',
    yaml: `version: 2\njobs:\n${job()}`,
    expect: { line: 1, column: 10, path: 'version', message: /unsupported config version: 2/, hint: /version: 1/ },
  },
  {
    name: 'missing version',
    yaml: `jobs:\n${job()}`,
    expect: { line: 1, path: 'version', message: /missing required key "version"/, hint: /version: 1/ },
  },
  {
    name: 'bad cron: value out of range',
    yaml: head + job().replace('"0 9 * * 1-5"', '"0 25 * * *"'),
    expect: { line: 4, column: 15, path: 'jobs[0].schedule', message: /"0 25 \* \* \*".*25/, hint: /0-23/ },
  },
  {
    name: 'bad cron: wrong number of fields',
    yaml: head + job().replace('"0 9 * * 1-5"', '"0 9 * *"'),
    expect: { line: 4, path: 'jobs[0].schedule', message: /4 fields/ },
  },
  {
    name: 'bad cron: unknown macro',
    yaml: head + job().replace('"0 9 * * 1-5"', '"@fortnightly"'),
    expect: { line: 4, path: 'jobs[0].schedule', message: /unknown cron macro "@fortnightly"/, hint: /@daily/ },
  },
  {
    name: 'bad cron: words instead of fields',
    yaml: head + job().replace('"0 9 * * 1-5"', 'every morning'),
    expect: { line: 4, path: 'jobs[0].schedule', message: /invalid schedule "every morning"/ },
  },
  {
    name: 'unknown timezone (did you mean)',
    yaml: head + job('    timezone: Europe/Moskow\n'),
    expect: { line: 11, column: 15, path: 'jobs[0].timezone', message: /unknown time zone "Europe\/Moskow"/, hint: /did you mean "Europe\/Moscow"/ },
  },
  {
    name: 'bad locale',
    yaml: head + job('    locale: ru_RU\n'),
    expect: { line: 11, path: 'jobs[0].locale', message: /invalid locale "ru_RU"/, hint: /ru-RU/ },
  },
  {
    name: 'duplicate job name',
    yaml: head + job() + job(),
    expect: { line: 11, path: 'jobs[1].name', message: /duplicate job name "daily" \(first defined at line 3\)/, hint: /unique/ },
  },
  {
    name: 'bad job name',
    yaml: head + job('', { name: 'Daily Report' }),
    expect: { line: 3, path: 'jobs[0].name', message: /"Daily Report".*slug/ },
  },
  {
    name: 'missing environment variable',
    yaml: head + job('', { target: '    target:\n      chat_id: ${DIGEST_CHAT}\n' }),
    expect: { line: 10, column: 16, path: 'jobs[0].target.chat_id', message: /DIGEST_CHAT is not set/, hint: /set DIGEST_CHAT in the environment or \.env, or write \$\{DIGEST_CHAT:-default\}/ },
  },
  {
    name: 'missing template file',
    yaml: head + job().replace('template: daily.hbs', 'template: dayly.hbs'),
    expect: { line: 8, column: 15, path: 'jobs[0].template', message: /template file not found: .*dayly\.hbs/, hint: /did you mean "daily\.hbs"/ },
  },
  {
    name: 'template syntax error (line inside the .hbs)',
    yaml: head + job(),
    files: { 'templates/daily.hbs': 'Сводка\n\n{{#each metrics.items}}\n  {{name}\n{{/each}}\n' },
    expect: { file: 'templates/daily.hbs', line: 4, message: /./ },
  },
  {
    name: 'both source and sources',
    yaml: head + job('    sources:\n      a: { type: static, data: {} }\n'),
    expect: { line: 11, column: 5, path: 'jobs[0].sources', message: /both source and sources/, hint: /exactly one/ },
  },
  {
    name: 'neither target nor targets',
    yaml: head + job('', { target: '' }),
    expect: { line: 3, path: 'jobs[0]', message: /neither target nor targets/, hint: /target:/ },
  },
  {
    name: 'target with two ids',
    yaml: head + job('', { target: '    target:\n      chat_id: 1\n      user_id: 2\n' }),
    expect: { line: 11, column: 7, path: 'jobs[0].target.user_id', message: /both chat_id and user_id/, hint: /exactly one/ },
  },
  {
    name: 'target without an id',
    yaml: head + job('', { target: '    target:\n      display_name: Бот\n' }),
    expect: { line: 10, path: 'jobs[0].target', message: /no chat_id, user_id or thread_id/ },
  },
  {
    name: 'bad target id',
    yaml: head + job('', { target: '    target:\n      chat_id: general\n' }),
    expect: { line: 10, column: 16, path: 'jobs[0].target.chat_id', message: /bad target id "general"/, hint: /positive integer/ },
  },
  {
    name: 'negative target id',
    yaml: head + job('', { target: '    target:\n      chat_id: -5\n' }),
    expect: { line: 10, path: 'jobs[0].target.chat_id', message: /-5/ },
  },
  {
    name: 'target id template uses item without for_each',
    yaml: head + job('', { target: '    target:\n      chat_id: "{{item.chat_id}}"\n' }),
    expect: { line: 10, path: 'jobs[0].target.chat_id', message: /uses "item" but the job has no for_each/, hint: /for_each/ },
  },
  {
    name: 'unknown source type',
    yaml: head + job('', { source: '    source:\n      type: statik\n      data: {}\n' }),
    expect: { line: 6, column: 13, path: 'jobs[0].source.type', message: /unknown source type "statik"/, hint: /static/ },
  },
  {
    name: 'bad source option',
    yaml: head + job('', { source: '    source:\n      type: file\n      pth: data.json\n' }),
    expect: { line: 7, column: 7, path: 'jobs[0].source.pth', message: /unknown key "pth"/, hint: /did you mean "path"/ },
  },
  {
    name: 'too many buttons in a row',
    yaml:
      head +
      job('', {
        target: `    target:\n      chat_id: 1\n      buttons:\n        - [${Array.from({ length: 9 }, (_, i) => `{ text: "b${i}", url: "https://example.com/${i}" }`).join(', ')}]\n`,
      }),
    expect: { line: 12, path: 'jobs[0].target.buttons[0]', message: /9 buttons.*at most 8/, hint: /split/ },
  },
  {
    name: 'bad duration',
    yaml: head + job('    timeout: 5 minutes\n'),
    expect: { line: 11, column: 14, path: 'jobs[0].timeout', message: /"5 minutes" is not a duration/, hint: /30s/ },
  },
  {
    name: 'bad enum value (did you mean)',
    yaml: head + job('    period: previous_weak\n'),
    expect: { line: 11, path: 'jobs[0].period', message: /"previous_weak" is not allowed/, hint: /did you mean "previous_week"/ },
  },
  {
    name: 'empty jobs',
    yaml: 'version: 1\njobs: []\n',
    expect: { line: 2, path: 'jobs', message: /at least one job/ },
  },
  {
    name: 'wrong type',
    yaml: head + job('    enabled: sometimes\n'),
    expect: { line: 11, path: 'jobs[0].enabled', message: /expected true or false, got "sometimes"/ },
  },
  {
    name: 'several errors at once',
    yaml: `version: 1\npachca:\n  timeouts:\n    connect: soon\njobs:\n${job('    timezone: Mars/Olympus\n').replace('"0 9 * * 1-5"', '"61 * * * *"')}`,
    expect: { line: 4, path: 'pachca.timeouts.connect', message: /"soon" is not a duration/, problems: 3 },
  },
  {
    name: 'YAML alias bomb (aliases of aliases)',
    yaml:
      'version: 1\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n' +
      Array.from({ length: 8 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]\n`).join('') +
      'jobs:\n' +
      job(),
    expect: { line: 7, column: 15, message: /aliases expand the config to more than 200,000 values \(\*a4 here\)/, hint: /aliases of aliases multiply/, problems: 1 },
  },
  {
    name: "YAML aliases past yaml's own alias count",
    yaml: `version: 1\nx: &x 1\nd: &d { a: *x, b: *x }\nmany: [${Array(600).fill('*d').join(', ')}]\njobs:\n${job()}`,
    expect: { line: 3, message: /cannot expand the aliases: Excessive alias count/, hint: /fewer aliases/, problems: 1 },
  },
  {
    name: 'YAML nested too deep',
    yaml: `version: 1\nx: ${'['.repeat(100)}${']'.repeat(100)}\njobs:\n${job()}`,
    expect: { line: 2, column: 67, message: /the YAML nests more than 64 levels deep here/, hint: /runaway brackets/, problems: 1 },
  },
  {
    name: 'YAML nested too deep for the parser itself',
    yaml: `version: 1\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\njobs:\n${job()}`,
    expect: { line: 2, message: /the YAML nests too deep to parse/, hint: /runaway brackets/ },
  },
  {
    name: 'config file too large',
    yaml: `version: 1\njobs:\n${job()}notes: |\n${'  a line of padding that makes the config far too large\n'.repeat(170_000)}`,
    expect: { line: 149_805, column: 1, message: /the config file is 9\.\d MB, more than the 8 MB a config may be/, hint: /`file` source/, problems: 1 },
  },
];
