/**
 * Faults after the server committed: a 5xx answered for a stored message, and a message that is
 * stored only after the client stopped waiting. Both leave a client with an ambiguous POST.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { post } from './helpers.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

describe('faults after the commit', () => {
  it("status when: 'after' stores the message and still answers the error", async () => {
    sb = await startSandbox();
    sb.faults.add({ kind: 'status', status: 502, when: 'after', method: 'POST' });
    const r = await post(sb, { entity_id: 101, content: 'сохранено' });
    expect(r.status).toBe(502);
    expect(sb.store.messages(101).map((m) => m.content)).toEqual(['сохранено']);
    // The default (before) stores nothing.
    sb.faults.add({ kind: 'status', status: 502, method: 'POST' });
    expect((await post(sb, { entity_id: 101, content: 'нет' })).status).toBe(502);
    expect(sb.store.messages(101)).toHaveLength(1);
    expect(sb.requests().map((e) => e.fault)).toEqual(['status', 'status']);
  });

  it('late: the message lands after the client gave up', async () => {
    sb = await startSandbox();
    sb.faults.add({ kind: 'late', ms: 1_500, method: 'POST', times: 1 });
    // The client gives up once the sandbox has the request (its fault taken), not after a fixed time:
    // on a loaded machine a fixed 50 ms could end before the request arrived at all.
    const gaveUp = new AbortController();
    const sent = post(sb, { entity_id: 101, content: 'поздно' }, {}, undefined, gaveUp.signal);
    const box = sb;
    const watch = setInterval(() => {
      if (box.faults.list().length === 0) gaveUp.abort();
    }, 5);
    await expect(sent).rejects.toThrow();
    clearInterval(watch);
    expect(sb.store.messages(101)).toHaveLength(0);
    const deadline = Date.now() + 10_000;
    while (sb.store.messages(101).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(sb.store.messages(101).map((m) => m.content)).toEqual(['поздно']);
  });

  it('skip lets the first matching requests through', async () => {
    sb = await startSandbox();
    sb.faults.add({ kind: 'status', status: 503, method: 'POST', skip: 1 });
    expect((await post(sb, { entity_id: 101, content: '1' })).status).toBe(201);
    expect((await post(sb, { entity_id: 101, content: '2' })).status).toBe(503);
    expect((await post(sb, { entity_id: 101, content: '3' })).status).toBe(201);
    expect(sb.store.messages(101).map((m) => m.content)).toEqual(['1', '3']);
  });

  it('late and status-after are accepted over HTTP', async () => {
    sb = await startSandbox();
    const res = await fetch(`${sb.origin}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ kind: 'late', ms: 10 }, { kind: 'status', status: 500, when: 'after' }]),
    });
    expect(res.status).toBeLessThan(300);
    expect(sb.faults.list().map((f) => f.fault.kind)).toEqual(['late', 'status']);
  });
});
