// The client's own HTTP transport (src/pachca/transport.ts): node:http, whose parser is native,
// instead of undici's WebAssembly one (whose compile and tier-up peaked a daemon's memory). What
// it must keep: undici's timeout codes and their meaning for retries, and a caller's own undici
// dispatcher still works. The delivery path of the bundled CLI never loads undici at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent } from 'undici';
import { PachcaClient } from '../../src/pachca/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { clientFor, freshToken, recorder } from './helpers.js';
import { moduleProbe } from '../helpers/module-probe.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ rateLimits: false });
});
afterAll(async () => {
  await sb.close();
});

/** A server whose first answer sends its headers and half a JSON body, then stalls; later answers are whole. */
async function stallingServer(): Promise<{ url: string; server: Server; answers: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    n++;
    res.writeHead(200, { 'content-type': 'application/json' });
    if (n === 1) res.write('{"data":{"id":7,');
    else res.end('{"data":{"id":7,"first_name":"Ольга"}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/shared/v1`, server, answers: () => n };
}

describe('the node:http transport', () => {
  it('a body that stops arriving fails the attempt as undici would (UND_ERR_BODY_TIMEOUT), and a read is retried', async () => {
    const s = await stallingServer();
    const rec = recorder();
    const c = new PachcaClient({ token: freshToken(), baseUrl: s.url, timeouts: { bodyMs: 200 }, retry: { baseDelayMs: 10, maxDelayMs: 20 }, events: rec.events });
    try {
      const u = await c.getUser(7);
      expect(u).toMatchObject({ id: 7, first_name: 'Ольга' });
      expect(rec.of('pachca:retry')[0]!.reason).toBe('UND_ERR_BODY_TIMEOUT');
      expect(s.answers()).toBe(2);
    } finally {
      await c.close();
      s.server.closeAllConnections();
      s.server.close();
    }
  });

  it('keeps sockets alive up to maxConnections: 40 concurrent reads over at most 3 connections', async () => {
    let connections = 0;
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"data":{"id":8}}');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = new PachcaClient({ token: freshToken(), baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/shared/v1`, maxConnections: 3, rateLimits: { other: { perSecond: 1000, burst: 1000 } } });
    try {
      const users = await Promise.all(Array.from({ length: 40 }, () => c.getUser(8)));
      expect(users.every((u) => u.id === 8)).toBe(true);
      expect(connections).toBeGreaterThan(0);
      expect(connections).toBeLessThanOrEqual(3);
    } finally {
      await c.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it("a caller's own undici dispatcher is used as given, and left open for its owner", async () => {
    const agent = new Agent({ connections: 1 });
    const c = clientFor(sb, { dispatcher: agent });
    try {
      const m = await c.createMessage({ entity_type: 'discussion', entity_id: 101, content: 'через undici' });
      expect(sb.store.messages(101).filter((x) => x.content === 'через undici').map((x) => x.id)).toEqual([m.id]);
      await c.close();
      // Still usable: the client did not close what it did not create.
      const other = clientFor(sb, { dispatcher: agent });
      await other.createMessage({ entity_type: 'discussion', entity_id: 101, content: 'через undici ещё раз' });
      await other.close();
      expect(sb.store.messages(101).filter((x) => x.content.startsWith('через undici'))).toHaveLength(2);
    } finally {
      await agent.close();
    }
  });
});

describe('the bundled CLI delivering', () => {
  const root = resolve(__dirname, '../..');
  const bin = join(root, 'dist/bin/pachca-digest.js');

  it.skipIf(!existsSync(bin))('run-job posts without loading undici or compiling any WebAssembly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-transport-'));
    try {
      mkdirSync(join(dir, 'templates'));
      writeFileSync(join(dir, 'templates/t.hbs'), 'Итог {{metrics.n}}\n');
      writeFileSync(
        join(dir, 'jobs.config.yaml'),
        ['version: 1', 'state:', '  url: sqlite:state.db', 'jobs:', '  - name: j', '    schedule: "0 9 * * *"', '    timezone: UTC', '    source: { type: static, data: { n: 5 } }', '    template: t.hbs', '    target: { chat_id: 102 }', ''].join('\n'),
      );
      const probe = moduleProbe(dir);
      const token = freshToken();
      sb.acceptToken(token);
      const env: NodeJS.ProcessEnv = { ...process.env, PACHCA_TOKEN: token, PACHCA_API_URL: sb.baseUrl };
      for (const name of ['PACHCA_DIGEST_CONFIG', 'PACHCA_DIGEST_STATE', 'NODE_OPTIONS']) delete env[name];
      const child = spawn(process.execPath, ['-r', probe.preload, bin, 'run-job', 'j', '--slot', '2026-12-01T09:00:00Z'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const code = await new Promise<number | null>((r) => child.on('close', r));
      expect(code, err).toBe(0);
      expect(sb.store.messages(102).filter((m) => m.content.startsWith('Итог'))).toHaveLength(1);
      const seen = probe.read();
      expect(seen.requests.filter((r) => r === 'undici' || r.startsWith('undici/'))).toEqual([]);
      expect(seen.wasm).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
