/**
 * Two daemons (the built CLI's `run`) with one config on one PostgreSQL ledger, taking button
 * clicks from the sandbox: by polling the one event history both see, and by signed webhooks
 * that reach both (a load balancer in front of replicas, and Pachca delivering at least once).
 * Each click is acted on exactly once between them: one refresh edit, one «Принято», one direct
 * message; a click delivered twice is acted on once. Effects are counted on the server after both
 * daemons stopped (SIGTERM waits for the events they are handling).
 */
import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Spawned } from '../helpers/project.js';
import { PG, cliEnv, ledgerSuite, logged, pgUrl, runCli, terminate, waitFor, waitStarted } from './helpers.js';

const SLOT = '2026-12-01T09:00:00Z';

function config(events: string): string {
  return `
version: 1
state:
  url: sqlite:state/not-used.db
  lease: 10s
events: ${events}
jobs:
  - name: sales
    description: Продажи
    schedule: "0 9 1 * *"
    timezone: UTC
    catch_up: none
    source: { type: file, path: data.json }
    template: t.hbs
    target:
      chat_id: 101
      buttons:
        - - { text: "Обновить", action: refresh }
          - { text: "Принято", action: acknowledge }
          - { text: "Подробнее", action: details, template: d.hbs }
`;
}

const TEMPLATES = { 't.hbs': 'Продажи: {{metrics.total}}\n', 'd.hbs': 'Подробно: {{metrics.total}}\n' };

if (!PG) console.warn('test/e2e-ledger/clicks-two-daemons-pg.test.ts: SKIPPED — PACHCA_DIGEST_TEST_PG is not set (scripts/start-postgres.sh prints a URL)');

/** A load balancer that hands every webhook POST to both replicas, as a redelivery may land on the other one; answers with the first's status. */
async function fanOutProxy(ports: () => number[]): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const forward = (port: number) =>
        new Promise<number>((resolve) => {
          const r = request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: { ...req.headers, host: `127.0.0.1:${port}` } }, (answer) => {
            answer.resume();
            answer.on('end', () => resolve(answer.statusCode ?? 502));
          });
          r.on('error', () => resolve(502));
          r.end(body);
        });
      void Promise.all(ports().map(forward)).then(([first]) => res.writeHead(first ?? 502).end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/pachca/webhook`, server };
}

describe.skipIf(!PG)('two daemons on one PostgreSQL ledger take button clicks', () => {
  const suite = ledgerSuite();
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  /** The digest with its buttons, posted by `run-job` into the shared ledger before the daemons start. */
  async function postDigest(events: string): Promise<{ env: Record<string, string | undefined>; messageId: number; data: (text: string) => string }> {
    const p = suite.project(config(events), TEMPLATES);
    writeFileSync(join(p.dir, 'data.json'), '{"total": 10}');
    const env = cliEnv(suite.sandbox, { PACHCA_DIGEST_STATE: pgUrl(suite.pgSchema('clicks')), PACHCA_WEBHOOK_SECRET: suite.sandbox.bot.signingSecret });
    const r = await runCli(['run-job', 'sales', '--slot', SLOT], { cwd: p.dir, env });
    expect(r.code, r.stderr).toBe(0);
    const [m] = suite.sandbox.store.messages(101);
    expect(m?.content).toContain('Продажи: 10');
    const buttons = (m!.buttons ?? []).flat();
    return { env, messageId: m!.id, data: (text) => buttons.find((b) => b.text === text)!.data! };
  }

  /** Clicks: a refresh after the data changed, an acknowledge delivered twice, details delivered twice. */
  async function clickThrough(messageId: number, dir: string): Promise<void> {
    const sb = suite.sandbox;
    const content = () => sb.store.message(messageId)!.content;
    writeFileSync(join(dir, 'data.json'), '{"total": 42}');
    sb.bot.click({ messageId, userId: 2, text: 'Обновить' });
    await waitFor(() => content().includes('Продажи: 42'), { timeoutMs: 30_000, what: 'the refresh edit' });
    const ack = sb.bot.click({ messageId, userId: 3, text: 'Принято' });
    sb.bot.emit(ack.event_type, ack.payload); // at least once: the same click again
    await waitFor(() => content().includes('Принято:'), { timeoutMs: 30_000, what: 'the acknowledge edit' });
    const details = sb.bot.click({ messageId, userId: 4, text: 'Подробнее' });
    sb.bot.emit(details.event_type, details.payload);
    await waitFor(() => dmsTo(4).length > 0, { timeoutMs: 30_000, what: 'the details DM' });
  }

  const dmsTo = (user: number) => suite.sandbox.store.messages().filter((x) => x.entity_type === 'user' && x.entity_id === user);

  /** Once both daemons stopped: every effect on the server once, and the actions in their logs once between them. */
  function expectEachClickOnce(messageId: number, daemons: Spawned[]): void {
    const sb = suite.sandbox;
    const m = sb.store.message(messageId)!;
    expect(m.content).toMatch(/^Продажи: 42\n\nПринято: .*alexey.*kuznetsov, \d\d:\d\d$/);
    expect(m.buttons!.flat().map((b) => b.text)).toEqual(['Обновить', 'Подробнее']);
    // One edit for the refresh, one for the acknowledge: nothing edited twice.
    const edits = sb.requests().filter((e) => e.method === 'PUT' && e.path.endsWith(`/messages/${messageId}`));
    expect(edits.map((e) => e.status)).toEqual([200, 200]);
    expect(dmsTo(4).map((x) => x.content)).toEqual(['Подробно: 42']);
    expect(sb.store.messages(101)).toHaveLength(1);
    const actions = daemons.flatMap((d) => logged(d, 'button action').map((l) => String(l.action)));
    expect(actions.sort()).toEqual(['acknowledge', 'details', 'refresh']);
    const outcomes = daemons.flatMap((d) => logged(d, 'event taken in').map((l) => String(l.outcome)));
    expect(outcomes.filter((o) => o === 'handled')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'failed')).toEqual([]);
  }

  async function startDaemons(env: Record<string, string | undefined>, dir: string, extra: string[] = []): Promise<Spawned[]> {
    const args = ['run', '--log-format', 'json', '--log-level', 'debug', ...extra];
    const daemons = [suite.children.spawn(args, { cwd: dir, env }), suite.children.spawn(args, { cwd: dir, env })];
    await Promise.all(daemons.map((d) => waitStarted(d, 30_000)));
    return daemons;
  }

  async function stopAll(daemons: Spawned[]): Promise<void> {
    const exits = await Promise.all(daemons.map((d) => terminate(d, 20_000)));
    for (const [i, e] of exits.entries()) expect(e, daemons[i]!.stderr()).toEqual({ code: 0, signal: null });
  }

  it('poll: both drain the one event history; each click is acted on once, a click delivered twice too', async () => {
    const { env, messageId } = await postDigest('{ mode: poll, poll_interval: 200ms }');
    const daemons = await startDaemons(env, suite.p.dir);
    await clickThrough(messageId, suite.p.dir);
    // Every event was taken in and deleted: nothing is left for a later drain to act on.
    await waitFor(() => suite.sandbox.bot.events().length === 0, { timeoutMs: 30_000, what: 'the event history to be drained' });
    await stopAll(daemons);
    expectEachClickOnce(messageId, daemons);
    const outcomes = daemons.flatMap((d) => logged(d, 'event taken in').map((l) => String(l.outcome)));
    // The two redeliveries at least were found handled (by this daemon or the other one).
    expect(outcomes.filter((o) => o === 'duplicate').length).toBeGreaterThanOrEqual(2);
    // Both polled the one history.
    for (const d of daemons) expect(logged(d, /event history drain failed/)).toEqual([]);
  }, 120_000);

  it('webhook: every signed delivery reaches both daemons; each click is acted on once', async () => {
    const { env, messageId } = await postDigest('{ mode: webhook }');
    const ports: number[] = [];
    const proxy = await fanOutProxy(() => ports);
    servers.push(proxy.server);
    const daemons = await startDaemons(env, suite.p.dir, ['--http-port', '0', '--http-host', '127.0.0.1']);
    for (const d of daemons) {
      const line = await waitFor(() => logged(d, 'metrics and health on /metrics, /healthz, /readyz')[0], { what: 'the daemon HTTP port' });
      ports.push(Number(line.port));
    }
    const set = await runCli(['bot', 'webhook', '--url', proxy.url], { cwd: suite.p.dir, env });
    expect(set.code, set.stderr).toBe(0);
    await clickThrough(messageId, suite.p.dir);
    await suite.sandbox.bot.settled();
    // Each of the 5 deliveries (the acknowledge and details twice) answered 200 at the first attempt.
    expect(suite.sandbox.bot.deliveries.map((d) => d.status)).toEqual([200, 200, 200, 200, 200]);
    await stopAll(daemons);
    expectEachClickOnce(messageId, daemons);
    // Every delivery reached both daemons: 5 deliveries × 2 = 10 taken in, 3 of them acted on.
    const outcomes = daemons.flatMap((d) => logged(d, 'event taken in').map((l) => String(l.outcome)));
    expect(outcomes.sort()).toEqual([...Array(3).fill('handled'), ...Array(7).fill('duplicate')].sort());
    for (const d of daemons) expect(logged(d, 'event taken in').length).toBe(5);
  }, 120_000);
});
