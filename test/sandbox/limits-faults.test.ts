import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { call, expectApiErrorShape, post } from './helpers.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

describe('rate limits', () => {
  it('answers 429 with Retry-After per token and chat, and recovers when time passes', async () => {
    let t = 1_000_000;
    sb = await startSandbox({ tokens: ['first-token', 'second-token'], now: () => t, rateLimits: { messageWrite: { perSecond: 0.5, burst: 2 } } });
    expect((await post(sb, { entity_id: 101, content: '1' })).status).toBe(201);
    expect((await post(sb, { entity_id: 101, content: '2' })).status).toBe(201);
    const limited = await post(sb, { entity_id: 101, content: '3' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expectApiErrorShape(limited.body);
    expect(limited.body.errors[0].code).toBe('rate_limit');
    // Another chat and another token have their own buckets; reads are a different bucket.
    expect((await post(sb, { entity_id: 102, content: 'x' })).status).toBe(201);
    expect((await post(sb, { entity_id: 101, content: 'x' }, {}, 'second-token')).status).toBe(201);
    expect((await call(sb, 'GET', '/messages?chat_id=101')).status).toBe(200);
    // Edits of a message in the limited chat count against the same bucket.
    const id = sb.store.messages(101)[0]!.id;
    expect((await call(sb, 'PUT', `/messages/${id}`, { message: { content: 'y' } })).status).toBe(429);

    t += 2_000;
    expect((await post(sb, { entity_id: 101, content: '4' })).status).toBe(201);
    expect(sb.store.messages(101).map((m) => m.content)).toEqual(['1', '2', 'x', '4']);
    expect(sb.stats().rateLimited).toBe(2);
    expect(sb.stats().byEndpoint['POST /messages']).toMatchObject({ '201': 5, '429': 1 });
  });

  it('recovers after really waiting Retry-After', async () => {
    sb = await startSandbox({ rateLimits: { messageRead: { perSecond: 5, burst: 3 } } });
    const answers = await Promise.all(Array.from({ length: 6 }, () => call(sb!, 'GET', '/messages?chat_id=101')));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    const retryAfter = Number(limited[0]!.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
    expect((await call(sb, 'GET', '/messages?chat_id=101')).status).toBe(200);
    expect(sb.stats().rateLimited).toBe(limited.length);
  });

  it('can be switched off', async () => {
    sb = await startSandbox({ rateLimits: false });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => post(sb!, { entity_id: 101, content: `${i}` })));
    expect(answers.every((a) => a.status === 201)).toBe(true);
  });
});

/** A raw request (no connection reuse) that reports a socket error instead of throwing. */
function rawPost(sb: Sandbox, path: string, body: unknown): Promise<{ status: number; text: string } | { error: string }> {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = request(
      `${sb.baseUrl}${path}`,
      {
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${sb.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
        res.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
      },
    );
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end(data);
  });
}

describe('faults', () => {
  it('status: answers the given code, raw body and headers, then stops after `times`', async () => {
    sb = await startSandbox();
    sb.faults.add({
      kind: 'status',
      status: 502,
      body: '<html><body>502 Bad Gateway</body></html>',
      headers: { 'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT' },
      path: '/messages',
      method: 'POST',
      times: 2,
    });
    const a = await post(sb, { entity_id: 101, content: 'x' });
    expect(a.status).toBe(502);
    expect(a.text).toContain('Bad Gateway');
    expect(a.headers.get('content-type')).toContain('text/html');
    expect(a.headers.get('retry-after')).toBe('Wed, 21 Oct 2015 07:28:00 GMT');
    expect((await post(sb, { entity_id: 101, content: 'x' })).status).toBe(502);
    expect((await post(sb, { entity_id: 101, content: 'x' })).status).toBe(201);
    expect(sb.store.messages()).toHaveLength(1);
    expect(sb.stats().faultsByKind.status).toBe(2);
  });

  it('matches by chat id and regex path, for Infinity times', async () => {
    sb = await startSandbox();
    sb.faults.add({ kind: 'status', status: 503, chatId: 102, times: Infinity });
    sb.faults.add({ kind: 'status', status: 500, body: { oops: true }, path: '/^\\/api\\/shared\\/v1\\/users\\/\\d+$/', times: Infinity });
    for (let i = 0; i < 3; i++) expect((await post(sb, { entity_id: 102, content: 'x' })).status).toBe(503);
    expect((await post(sb, { entity_id: 101, content: 'x' })).status).toBe(201);
    expect((await call(sb, 'GET', '/messages?chat_id=102')).status).toBe(503);
    const u = await call(sb, 'GET', '/users/1');
    expect(u.status).toBe(500);
    expect(u.body).toEqual({ oops: true });
    expect((await call(sb, 'GET', '/users')).status).toBe(200);
    sb.faults.clear();
    expect((await post(sb, { entity_id: 102, content: 'x' })).status).toBe(201);
  });

  it('reset-before drops the connection and stores nothing', async () => {
    sb = await startSandbox();
    sb.faults.add({ kind: 'reset-before', method: 'POST' });
    const r = await rawPost(sb, '/messages', { message: { entity_id: 101, content: 'x' } });
    expect(r).toHaveProperty('error');
    expect(sb.store.messages()).toHaveLength(0);
    expect(sb.requests().at(-1)).toMatchObject({ status: null, outcome: 'reset', fault: 'reset-before' });
  });

  it('reset-after stores the message although the client sees a socket error', async () => {
    sb = await startSandbox();
    sb.faults.add({ kind: 'reset-after', path: '/messages' });
    const r = await rawPost(sb, '/messages', { message: { entity_id: 101, content: 'двусмысленно' } });
    expect(r).toHaveProperty('error');
    await expect(post(sb, { entity_id: 101, content: 'после' }).then((a) => a.status)).resolves.toBe(201);
    expect(sb.store.messages(101).map((m) => m.content)).toEqual(['двусмысленно', 'после']);
    // Through fetch the failure is a rejected promise.
    sb.faults.add({ kind: 'reset-after' });
    await expect(post(sb, { entity_id: 101, content: 'ещё' })).rejects.toThrow();
    expect(sb.store.messages(101)).toHaveLength(3);
  });

  it('delay: answers late, and a client that gives up leaves no pending work', async () => {
    sb = await startSandbox();
    sb.faults.add({ kind: 'delay', ms: 50, method: 'GET' });
    const slow = await call(sb, 'GET', '/chats');
    expect(slow.status).toBe(200);
    expect(sb.requests().at(-1)).toMatchObject({ fault: 'delay', status: 200 });

    sb.faults.add({ kind: 'delay', ms: 60_000, method: 'POST' });
    await expect(post(sb, { entity_id: 101, content: 'x' }, {}, undefined, AbortSignal.timeout(100))).rejects.toThrow();
    await until(() => sb!.requests().some((e) => e.outcome === 'client-closed'));
    expect(sb.store.messages()).toHaveLength(0);

    // when: 'after' stores first, so a client that times out is left with an ambiguous POST.
    sb.faults.add({ kind: 'delay', ms: 60_000, method: 'POST', when: 'after' });
    await expect(post(sb, { entity_id: 101, content: 'y' }, {}, undefined, AbortSignal.timeout(100))).rejects.toThrow();
    expect(sb.store.messages().map((m) => m.content)).toEqual(['y']);
  });

  it('close() ends pending delays and keep-alive connections', async () => {
    sb = await startSandbox();
    expect((await call(sb, 'GET', '/chats')).status).toBe(200); // leaves a keep-alive socket
    sb.faults.add({ kind: 'delay', ms: 60_000 });
    const pending = call(sb, 'GET', '/chats').then(
      () => 'answered',
      () => 'failed',
    );
    await until(() => sb!.stats().requests >= 1 && sb!.faults.list().length === 0);
    await sb.close();
    sb = undefined;
    expect(await pending).toBe('failed');
  });

  it('rate-limit storms answer 429 with the given Retry-After', async () => {
    sb = await startSandbox();
    sb.faults.add({ kind: 'rate-limit', retryAfter: 7, times: 3 });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await post(sb, { entity_id: 101, content: 'x' }));
    expect(answers.map((a) => a.status)).toEqual([429, 429, 429, 201]);
    expect(answers[0]!.headers.get('retry-after')).toBe('7');
    expect(answers[0]!.body.errors[0].code).toBe('rate_limit');
    expect(sb.stats()).toMatchObject({ rateLimited: 3, faultsInjected: 3, faultsByKind: { 'rate-limit': 3 } });
  });

  it('is driven over HTTP too', async () => {
    sb = await startSandbox();
    const add = await call(sb, 'POST', '/__sandbox/faults', [
      { kind: 'status', status: 500, path: '/messages', times: 'Infinity' },
      { kind: 'rate-limit', path: '/chats' },
    ]);
    expect(add.status).toBe(201);
    expect(add.body.data).toHaveLength(2);
    expect((await call(sb, 'GET', '/__sandbox/faults')).body.data).toHaveLength(2);
    expect((await post(sb, { entity_id: 101, content: 'x' })).status).toBe(500);
    expect((await call(sb, 'GET', '/chats')).status).toBe(429);
    const bad = await call(sb, 'POST', '/__sandbox/faults', { kind: 'explode' });
    expect(bad.status).toBe(400);
    expect((await call(sb, 'DELETE', '/__sandbox/faults')).status).toBe(204);
    expect((await post(sb, { entity_id: 101, content: 'x' })).status).toBe(201);
  });
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error('condition not reached');
}
