// Client pacing benchmark: how close to Pachca's limits the client delivers, against the sandbox
// enforcing the same limits (CLIENT_DEFAULTS.rateLimits), compared with a naive client that fires
// everything at once and only waits Retry-After after a 429 (the official SDK's policy).
// Run by `npm run bench` (after `npm run build`), or alone: `node bench/client.mjs`.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { PachcaClient, CLIENT_DEFAULTS } from '../dist/pachca/index.js';
import { DOCUMENTED_LIMITS, startSandbox } from '../dist/sandbox/index.js';
import { audit, freshToken, sendNaive, sendOurs } from './common.mjs';

const FANOUT_CHATS = 50;
const FANOUT_PER_CHAT = 20; // 1,000 messages: 10 ride the burst, 10 are paced, per chat
const SINGLE_CHAT_MESSAGES = 40;

/**
 * Seconds the limits themselves impose: per chat, what does not fit in the burst at the rate;
 * for all chats together, the token-wide ceiling (the server's documented one).
 */
function theoreticalMinMs(perChat) {
  const { perSecond, burst } = CLIENT_DEFAULTS.rateLimits.messageWrite;
  const token = DOCUMENTED_LIMITS.token;
  const total = perChat.reduce((a, b) => a + b, 0);
  return Math.max(...perChat.map((n) => Math.max(0, (n - burst) / perSecond) * 1000), Math.max(0, (total - token.burst) / token.perSecond) * 1000);
}

function plan(chatIds, perChat, tag) {
  return new Map(chatIds.map((id) => [id, Array.from({ length: perChat }, (_, i) => `${tag} ${id}#${i} — сводка`)]));
}

const runNaive = (sb, p) => sendNaive(sb, p, 50);

async function scenario(sb, name, chatIds, perChat) {
  const minMs = theoreticalMinMs(chatIds.map(() => perChat));
  const out = { messages: chatIds.length * perChat, chats: chatIds.length, theoreticalMinMs: Math.round(minMs) };
  for (const [who, run] of [
    ['client', sendOurs],
    ['naive', runNaive],
  ]) {
    sb.reset();
    const p = plan(chatIds, perChat, `${name}/${who}`);
    const r = await run(sb, p);
    const stats = sb.stats();
    out[who] = {
      elapsedMs: Math.round(r.elapsedMs),
      ratio: minMs > 0 ? Number((r.elapsedMs / minMs).toFixed(3)) : null,
      http429: stats.rateLimited,
      requests: stats.requests,
      failed: r.failed,
      ...audit(sb, p),
    };
  }
  return out;
}

/** JIT-warm the sandbox and both clients' code paths, so the first scenario is not penalised. */
async function warmUp(sb, chatIds) {
  const p = plan(chatIds, 4, 'warm-up');
  await sendOurs(sb, p);
  await runNaive(sb, plan(chatIds, 4, 'warm-up-naive'));
}

/**
 * What this machine needs to push the same messages with no limits at all (sandbox limits off,
 * client pacing off): the floor under any "ratio" on a loaded or slow box.
 */
async function machineFloorMs(chatIds, perChat) {
  const sb = await startSandbox({ chats: chatIds.map((id) => ({ id, name: `c${id}` })), rateLimits: false, requestLogSize: 100 });
  const floorToken = freshToken('floor');
  sb.acceptToken(floorToken);
  const client = new PachcaClient({
    token: floorToken,
    baseUrl: sb.baseUrl,
    rateLimits: { messageWrite: { perSecond: 1e6, burst: 1e6 }, token: { perSecond: 1e6, burst: 1e6 } },
  });
  try {
    const p = plan(chatIds, perChat, 'floor');
    const t0 = performance.now();
    await Promise.all(
      [...p].flatMap(([chatId, contents]) =>
        contents.map((content) => client.createMessage({ entity_type: 'discussion', entity_id: chatId, content })),
      ),
    );
    return Math.round(performance.now() - t0);
  } finally {
    await client.close();
    await sb.close();
  }
}

/** Adds the floor and, per client, elapsed ÷ max(limits minimum, machine floor). */
function withFloor(s, floorMs) {
  const bound = Math.max(s.theoreticalMinMs, floorMs);
  for (const who of ['client', 'naive']) s[who].ratioVsFloor = Number((s[who].elapsedMs / bound).toFixed(3));
  return { ...s, machineFloorMs: floorMs };
}

export async function runClientBench() {
  const chats = Array.from({ length: FANOUT_CHATS }, (_, i) => ({ id: 2001 + i, name: `Канал ${i + 1}` }));
  const sb = await startSandbox({ chats, rateLimits: {}, requestLogSize: 100 });
  try {
    await warmUp(sb, chats.map((c) => c.id));
    return {
      limits: CLIENT_DEFAULTS.rateLimits.messageWrite,
      fanout: withFloor(
        await scenario(sb, 'fanout', chats.map((c) => c.id), FANOUT_PER_CHAT),
        await machineFloorMs(chats.map((c) => c.id), FANOUT_PER_CHAT),
      ),
      singleChat: await scenario(sb, 'single', [chats[0].id], SINGLE_CHAT_MESSAGES),
    };
  } finally {
    await sb.close();
  }
}

function printTable(r) {
  const rows = [];
  for (const [label, s] of [
    [`fan-out ${r.fanout.messages} msgs / ${r.fanout.chats} chats`, r.fanout],
    [`one chat, ${r.singleChat.messages} msgs`, r.singleChat],
  ]) {
    for (const who of ['client', 'naive']) {
      const x = s[who];
      rows.push({
        scenario: label,
        client: who === 'client' ? 'PachcaClient' : 'naive (all at once + Retry-After)',
        'min (s)': (s.theoreticalMinMs / 1000).toFixed(2),
        'elapsed (s)': (x.elapsedMs / 1000).toFixed(2),
        'ratio (goal ≤1.10)': x.ratio,
        'vs machine floor': x.ratioVsFloor ?? '',
        '429s (goal 0)': x.http429,
        requests: x.requests,
        duplicates: x.duplicates,
        lost: x.lost,
      });
    }
  }
  console.log(`limits: ${r.limits.perSecond}/s per chat, burst ${r.limits.burst}`);
  console.table(rows);
  console.log(
    `machine floor for the fan-out (same ${r.fanout.messages} messages, no limits anywhere): ${(r.fanout.machineFloorMs / 1000).toFixed(2)} s`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await runClientBench());
}
