/**
 * Secrets never reach the output of `run-job`, whatever goes wrong and whatever the log format:
 * a rejected token (401), a 429 storm waited out, a source that fails and echoes the token. The
 * lines still carry what an operator needs (job, slot, status, duration, attempts, ids, code, hint).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { makeProject, runCli, type CliResult, type Project } from '../helpers/project.js';
import { CONFIG_HEAD, jsonLines } from './helpers.js';

const TOKEN = 'pd-live-Zq81xK3vN7tR2mW5';
const OTHER = 'pd-live-only-this-one-works-4711';
const SLOT = '2026-11-24T09:00:00+03:00';

const CONFIG = `
${CONFIG_HEAD}
jobs:
  - name: sales
    schedule: "0 9 * * *"
    source: { type: static, data: { n: 7 } }
    template: n.hbs
    target: { chat_id: 101 }
  # The program echoes the token it was given, plain and as a header, then fails.
  - name: echo-cmd
    schedule: "0 9 * * *"
    source:
      type: command
      argv: [node, -e, "console.error('token=' + process.env.PACHCA_TOKEN + ' authorization: Bearer ' + process.env.PACHCA_TOKEN); process.exit(1)"]
      env_allow: [PACHCA_TOKEN]
      retries: 0
    template: n.hbs
    target: { chat_id: 101 }
  # An HTTP source sending the token as a header to a closed port.
  - name: closed-http
    schedule: "0 9 * * *"
    source:
      type: http
      url: http://127.0.0.1:9/metrics?token=\${PACHCA_TOKEN}
      headers:
        Authorization: Bearer \${PACHCA_TOKEN}
      retries: 0
      timeout: 3s
    template: n.hbs
    target: { chat_id: 101 }
`;

/** Every way the token could show up: plain, URL-encoded, as a bearer value, as a header value. */
function expectNoSecret(r: CliResult, token: string) {
  const all = r.stdout + r.stderr;
  expect(all).not.toContain(token);
  expect(all).not.toContain(encodeURIComponent(token));
  expect(all).not.toContain(token.slice(4, 16));
  expect(all).not.toMatch(new RegExp(`Bearer\\s+(?!\\[REDACTED\\])[A-Za-z0-9._~+/=-]{8,}`, 'i'));
  // Any "authorization" followed by a value: the value is the redaction mark.
  for (const m of all.matchAll(/authorization["']?\s*[:=]\s*"?([^\s",}]+)(?:\s+([^\s",}]+))?/gi)) {
    const value = m[1] === 'Bearer' ? m[2] : m[1];
    expect(value, `authorization value in: ${m[0]}`).toBe('[REDACTED]');
  }
}

describe('secrets stay out of run-job output', () => {
  let sandbox: Sandbox;
  let project: Project;

  beforeAll(async () => {
    sandbox = await startSandbox({ tokens: [OTHER, TOKEN] });
    project = makeProject({ 'jobs.config.yaml': CONFIG, 'templates/n.hbs': 'n = {{metrics.n}}\n' });
  });
  afterEach(() => sandbox.reset());
  afterAll(async () => {
    await sandbox.close();
    project.cleanup();
  });

  const run = (job: string, format: 'json' | 'pretty', token = TOKEN) =>
    runCli(['--log-level', 'debug', '--log-format', format, 'run-job', job, '--slot', SLOT, '--force'], {
      cwd: project.dir,
      env: { PACHCA_TOKEN: token, PACHCA_API_URL: sandbox.baseUrl },
      timeoutMs: 20_000,
    });

  describe.each(['json', 'pretty'] as const)('--log-format %s', (format) => {
    it('401 (the server accepts another token): exit 1, the hint names PACHCA_TOKEN, no token anywhere', async () => {
      const wrong = 'pd-live-revoked-Hh62Lp0Qa9';
      const r = await run('sales', format, wrong);
      expect(r.code).toBe(1);
      expectNoSecret(r, wrong);
      expect(sandbox.stats().byEndpoint['POST /messages']).toEqual({ '401': 1 });
      if (format === 'json') {
        const end = jsonLines(r.stderr).find((l) => l.msg === 'run failed')!;
        expect(end).toMatchObject({ job: 'sales', slot: '2026-11-24T06:00:00.000Z', status: 'failed', messageIds: [] });
        expect(end.durationMs).toBeTypeOf('number');
        expect(end.attempts).toBeGreaterThanOrEqual(1);
        expect(end.error.code).toBe('E_DELIVERY');
        expect(end.error.message).toMatch(/401/);
        expect(end.error.hint).toMatch(/PACHCA_TOKEN/);
        // The request line at debug level shows the call, never its headers.
        const req = jsonLines(r.stderr).find((l) => l.msg === 'pachca request')!;
        expect(req).toMatchObject({ method: 'POST', path: '/messages', status: 401 });
      } else {
        expect(r.stderr).toMatch(/ERROR run failed job=sales slot=2026-11-24T06:00:00.000Z status=failed duration=\d+ms attempts=\d+ messageIds=\[\]/);
        expect(r.stderr).toMatch(/error\.code=E_DELIVERY/);
        expect(r.stderr).toMatch(/error\.hint="[^"]*PACHCA_TOKEN/);
        expect(r.stderr).toMatch(/DEBUG pachca request status=401/);
      }
      expect(sandbox.store.messages()).toHaveLength(0);
    });

    it('a 429 storm is waited out (Retry-After) and the digest delivered; no token in the debug lines', async () => {
      sandbox.faults.add({ kind: 'rate-limit', retryAfter: 1, times: 3, method: 'POST', path: '/messages' });
      const r = await run('sales', format);
      expect(r.code, r.stderr).toBe(0);
      expectNoSecret(r, TOKEN);
      const msgs = sandbox.store.messages();
      expect(msgs).toHaveLength(1);
      expect(sandbox.stats().byEndpoint['POST /messages']).toEqual({ '429': 3, '201': 1 });
      if (format === 'json') {
        const lines = jsonLines(r.stderr);
        const limited = lines.filter((l) => l.msg === 'pachca rate limit hit (429)');
        expect(limited).toHaveLength(3);
        expect(limited[0]).toMatchObject({ method: 'POST', path: '/messages', retryAfterMs: 1000 });
        const end = lines.find((l) => l.msg === 'run succeeded')!;
        expect(end).toMatchObject({ job: 'sales', slot: '2026-11-24T06:00:00.000Z', status: 'succeeded', messageIds: [msgs[0]!.id] });
        expect(end.durationMs).toBeGreaterThanOrEqual(2_000);
        expect(end.attempts).toBeGreaterThanOrEqual(1);
      } else {
        expect(r.stderr.match(/WARN {2}pachca rate limit hit \(429\)/g)).toHaveLength(3);
        expect(r.stderr).toMatch(new RegExp(`INFO  run succeeded job=sales slot=2026-11-24T06:00:00.000Z status=succeeded duration=[\\d.]+s attempts=\\d+ messageIds=\\[${msgs[0]!.id}\\]`));
      }
      expect(r.stdout).toMatch(new RegExp(`message ${msgs[0]!.id}`));
    });

    it('a command source that echoes the token on stderr and fails: E_SOURCE, hint, no token', async () => {
      const r = await run('echo-cmd', format);
      expect(r.code).toBe(1);
      if (format === 'json') {
        const lines = jsonLines(r.stderr);
        expect(lines.find((l) => l.msg === 'source failed')).toMatchObject({ job: 'echo-cmd', source: 'default', ok: false });
        const end = lines.find((l) => l.msg === 'run failed')!;
        expect(end).toMatchObject({ job: 'echo-cmd', status: 'failed', error: { code: 'E_SOURCE' } });
        expect(end.error.message).toContain('[REDACTED]');
        expect(end.error.hint).toMatch(/optional: true/);
      } else {
        expect(r.stderr).toMatch(/ERROR run failed job=echo-cmd slot=\S+ status=failed .*error\.code=E_SOURCE/);
      }
      // The final human-readable error paragraph is part of the output too.
      expect(r.stderr).toMatch(/^E_SOURCE /m);
      expectNoSecret(r, TOKEN);
      expect(sandbox.requests()).toHaveLength(0);
    });

    it('an http source with the token in a header and the query, at a closed port: no token', async () => {
      const r = await run('closed-http', format);
      expect(r.code).toBe(1);
      expectNoSecret(r, TOKEN);
      expect(r.stderr).toMatch(/ECONNREFUSED/);
      expect(r.stderr).toMatch(/^E_SOURCE /m);
      if (format === 'json') {
        const end = jsonLines(r.stderr).find((l) => l.msg === 'run failed')!;
        expect(end).toMatchObject({ job: 'closed-http', status: 'failed', error: { code: 'E_SOURCE' } });
        expect(end.error.hint).toBeTruthy();
      } else {
        expect(r.stderr).toMatch(/ERROR run failed job=closed-http .*error\.code=E_SOURCE .*error\.hint=/);
      }
    });
  });
});
