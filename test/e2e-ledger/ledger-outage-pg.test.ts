/**
 * PostgreSQL unreachable for 12 s across a slot: the daemon's claim waits the outage out (retrying within the
 * slot's starting deadline) and the slot runs once when the ledger is back; /readyz says the ledger is down
 * meanwhile. The outage is a TCP proxy this test owns in front of the shared server — the shared PostgreSQL
 * itself is never stopped.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, get } from '../e2e-ops/helpers.js';
import { PG, cliEnv, countBySlot, ledgerSuite, logged, pgSchema, dropPgSchema, openLedger, terminate, waitFor, waitStarted } from './helpers.js';

/** A TCP proxy that can cut every connection and refuse new ones until restored. */
class CuttableProxy {
  readonly #sockets = new Set<Socket>();
  #cut = false;
  constructor(
    readonly server: Server,
    readonly port: number,
  ) {}

  static async start(host: string, port: number): Promise<CuttableProxy> {
    let proxy: CuttableProxy | undefined = undefined;
    const server = createServer((client) => {
      if (!proxy || proxy.#cut) {
        client.destroy();
        return;
      }
      const upstream = connect(port, host);
      for (const s of [client, upstream]) {
        proxy.#sockets.add(s);
        s.on('close', () => proxy!.#sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new CuttableProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  cut(): void {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
  }

  restore(): void {
    this.#cut = false;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('a PostgreSQL outage across a slot', () => {
  const suite = ledgerSuite();
  let proxy: CuttableProxy | undefined;
  let schema: string | undefined;
  afterEach(async () => {
    await proxy?.close();
    if (schema) await dropPgSchema(schema);
  });

  it.skipIf(!PG)('12 s without the ledger when the slot fires: it runs once when the ledger is back; /readyz reports it down', async () => {
    const pg = new URL(PG!);
    proxy = await CuttableProxy.start(pg.hostname, Number(pg.port || 5432));
    schema = pgSchema('outage');
    const viaProxy = new URL(PG!);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    viaProxy.searchParams.set('schema', schema);
    // The first slot comes 8 s from now: time to start, then cut just before it fires.
    const slot = new Date(Math.ceil((Date.now() + 8_000) / 1000) * 1000);
    const p = suite.project(
      `
version: 1
state:
  lease: 30s
jobs:
  - name: outage
    schedule: "${slot.getUTCSeconds()} ${slot.getUTCMinutes()} * * * *"
    timezone: UTC
    starting_deadline: 2m
    source: { type: static, data: { n: 1 } }
    template: t.hbs
    target: { chat_id: 101 }
`,
      { 't.hbs': 'slot={{slot}}\n' },
    );
    const port = await freePort();
    const env = cliEnv(suite.sandbox, { PACHCA_DIGEST_STATE: viaProxy.toString() });
    const d = suite.children.spawn(['run', '--log-format', 'json', '--http-port', String(port), '--http-host', '127.0.0.1'], { cwd: p.dir, env });
    await waitStarted(d);
    expect((await get(`http://127.0.0.1:${port}/readyz`))?.status).toBe(200);

    await new Promise((r) => setTimeout(r, Math.max(0, slot.getTime() - Date.now() - 1_500)));
    proxy.cut();
    const cutAt = Date.now();
    await waitFor(async () => (await get(`http://127.0.0.1:${port}/readyz`))?.status === 503, { timeoutMs: 8_000, what: '/readyz to report the ledger down' });
    await waitFor(() => logged(d, 'run ledger unavailable: retrying').length > 0, { timeoutMs: 10_000, what: 'the claim to retry' });
    await new Promise((r) => setTimeout(r, Math.max(0, cutAt + 12_000 - Date.now())));
    expect(suite.sandbox.store.messages(101)).toHaveLength(0);
    proxy.restore();

    await waitFor(() => suite.sandbox.store.messages(101).length > 0, { timeoutMs: 20_000, what: 'the slot to run once the ledger is back' });
    await waitFor(async () => (await get(`http://127.0.0.1:${port}/readyz`))?.status === 200, { timeoutMs: 10_000, what: '/readyz to recover' });
    await new Promise((r) => setTimeout(r, 2_000));
    expect(countBySlot(suite.sandbox.store.messages(101)).get(slot.toISOString())).toBe(1);
    expect(suite.sandbox.store.messages(101)).toHaveLength(1);
    expect(logged(d, 'run crashed')).toEqual([]);
    expect(await terminate(d)).toEqual({ code: 0, signal: null });

    const ledger = await openLedger(viaProxy.toString(), p);
    try {
      expect(await ledger.getRun('outage', slot)).toMatchObject({ status: 'succeeded', attempts: 1 });
    } finally {
      await ledger.close();
    }
  }, 90_000);
});
