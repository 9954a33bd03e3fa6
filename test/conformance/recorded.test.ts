/**
 * The run-wide conformance check can fail: a sandbox with a non-conforming answer injected, and a
 * request our client sends that the spec does not allow, are reported with their test, file,
 * method + path and the schema error; raw probes of the sandbox are left out and an injected 502
 * is not held against the spec. The last test runs a whole (nested) vitest over a fixture and
 * sees the run fail because of it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PachcaClient } from '../../src/pachca/index.js';
import { EXCHANGES_DIR_ENV } from '../../src/sandbox/exchange-recorder.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { ROOT } from '../helpers/project.js';
import { checkRecorded, formatReport, readRecorded } from './recorded.js';

const TOKEN = 'recorded-check-token';
let dir: string;
let sb: Sandbox;
let client: PachcaClient;

beforeAll(async () => {
  // This file's own recording: its deliberate violations must not fail the run it is part of.
  dir = mkdtempSync(join(tmpdir(), 'pachca-digest-recorded-test-'));
  const runWide = process.env[EXCHANGES_DIR_ENV];
  process.env[EXCHANGES_DIR_ENV] = dir;
  try {
    sb = await startSandbox({ tokens: [TOKEN], web: false });
  } finally {
    if (runWide === undefined) delete process.env[EXCHANGES_DIR_ENV];
    else process.env[EXCHANGES_DIR_ENV] = runWide;
  }
  client = new PachcaClient({ token: TOKEN, baseUrl: sb.baseUrl, retry: { retries: 0, baseDelayMs: 10, maxDelayMs: 20 } });
});
afterAll(async () => {
  await client?.close();
  await sb?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the run-wide OpenAPI check of recorded exchanges', () => {
  it('reports a non-conforming answer and a non-conforming request of our client, not a raw probe, not an injected 502', async () => {
    // An answer: 201 to POST /messages whose Message has a string id and nothing else.
    sb.faults.add({ method: 'POST', path: '/messages', kind: 'status', status: 201, body: { data: { id: 'сорок два' } } });
    await client.createMessage({ entity_type: 'discussion', entity_id: 101, content: 'Сводка' }).catch(() => undefined);
    // A request: our client's generic call with an entity_type the spec does not have.
    await client.request('POST', '/messages', { body: { message: { entity_type: 'channel', entity_id: 101, content: 'x' } } }).catch(() => undefined);
    // Not ours: a raw probe with the same bad body.
    await fetch(`${sb.baseUrl}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'user-agent': 'probe' },
      body: JSON.stringify({ message: { entity_type: 'channel', entity_id: 101, content: 'x' } }),
    }).then((r) => r.arrayBuffer());
    // An injected gateway failure: its request is checked, its HTML page is not Pachca's answer.
    sb.faults.add({ method: 'GET', path: '/users/1', kind: 'status', status: 502, body: '<html>Bad Gateway</html>' });
    await client.getUser(1).catch(() => undefined);

    const report = checkRecorded(readRecorded(dir));
    expect(report.notOurs).toBe(1);
    expect(report.skipped['injected-faults']).toBe(1);
    expect(report.violations).toHaveLength(2);
    const [answer, request] = report.violations;
    const label = 'test/conformance/recorded.test.ts > the run-wide OpenAPI check of recorded exchanges > reports a non-conforming answer';
    expect(answer!.label.startsWith(label)).toBe(true);
    expect(answer!.exchange).toBe('POST /messages → 201 [fault: status before]');
    expect(answer!.problems.join('\n')).toMatch(/response\.201\/data\/id must be integer/);
    expect(answer!.problems.join('\n')).toMatch(/must have required property 'chat_id'/);
    expect(request!.exchange).toMatch(/^POST \/messages → 4\d\d$/);
    expect(request!.problems.join('\n')).toMatch(/request\.body\/message\/entity_type must be equal to one of the allowed values/);
    const text = formatReport(report);
    expect(text).toContain(label);
    expect(text).toContain('POST /messages → 201');
    expect(text).toMatch(/2 exchanges violate the spec/);
  });

  it('a whole test run fails on it: a nested vitest over a fixture whose sandbox answers wrongly exits 1 with the report', () => {
    const env = { ...process.env };
    delete env[EXCHANGES_DIR_ENV];
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'test/conformance/fixtures/vitest.config.ts'], {
      cwd: ROOT,
      env: { ...env, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const out = `${r.stdout}\n${r.stderr}`;
    // The fixture's own test passed: only the conformance check fails the run.
    expect(out, out).toMatch(/Tests\s+1 passed/);
    expect(r.status, out).toBe(1);
    expect(out).toMatch(/1 exchanges violate the spec/);
    expect(out).toContain('test/conformance/fixtures/bad-answer.fixture.ts > a sandbox whose answer to GET /users/{id} is not a User');
    expect(out).toMatch(/GET \/users\/1 → 200 \[fault: status before\]/);
    expect(out).toMatch(/response\.200\/data must have required property 'first_name'/);
  }, 150_000);
});
