// Fan-out under the token-wide ceiling: 1,000 messages to 50 chats against a sandbox enforcing
// Pachca's documented limits (~50 req/s per token over every method, ~4/s per chat), then one
// with half of every documented limit; our client (default settings, it does not know the
// server's limits) beside a naive one (everything at once, Retry-After after a 429).
// Floor = messages ÷ the token rate (the per-chat limits allow more). Goals: ≤ 1.10 × floor and
// ≤ 1 % 429s at the documented limits; ≤ 1.25 × floor and ≤ 2 % 429s at half of them.
// Run by `npm run bench` (after `npm run build`), or alone: `node bench/fanout.mjs`.
import { pathToFileURL } from 'node:url';
import { DOCUMENTED_LIMITS, startSandbox } from '../dist/sandbox/index.js';
import { audit, sendNaive, sendOurs } from './common.mjs';

const CHATS = 50;
const PER_CHAT = 20;

function scaled(factor) {
  return Object.fromEntries(
    Object.entries(DOCUMENTED_LIMITS).map(([k, l]) => [k, { perSecond: l.perSecond * factor, burst: Math.max(1, Math.floor(l.burst * factor)) }]),
  );
}

function plan(tag) {
  return Array.from({ length: CHATS }, (_, c) => [3001 + c, Array.from({ length: PER_CHAT }, (_, i) => `${tag} ${3001 + c}#${i} — сводка`)]);
}

async function scenario(name, factor) {
  const limits = scaled(factor);
  const chats = Array.from({ length: CHATS }, (_, c) => ({ id: 3001 + c, name: `Канал ${c + 1}` }));
  const sb = await startSandbox({ chats, rateLimits: limits, web: false, requestLogSize: 100 });
  const floorMs = ((CHATS * PER_CHAT) / limits.token.perSecond) * 1000;
  const out = { limits: { token: limits.token, messageWrite: limits.messageWrite }, messages: CHATS * PER_CHAT, chats: CHATS, floorMs: Math.round(floorMs) };
  try {
    for (const [who, run] of [
      ['client', sendOurs],
      ['naive', (sb, p) => sendNaive(sb, p, 200)],
    ]) {
      sb.reset();
      // A quiet second between runs: the server's token bucket is full again for the next one.
      await new Promise((r) => setTimeout(r, 1500));
      const p = plan(`${name}/${who}`);
      const r = await run(sb, p);
      const stats = sb.stats();
      out[who] = {
        elapsedMs: Math.round(r.elapsedMs),
        ratio: Number((r.elapsedMs / floorMs).toFixed(3)),
        requests: stats.requests,
        http429: stats.rateLimited,
        http429Pct: Number(((100 * stats.rateLimited) / Math.max(1, stats.requests)).toFixed(2)),
        rateLimitedBy: stats.rateLimitedBy,
        failed: r.failed,
        ...audit(sb, p),
      };
      console.log(name, who, JSON.stringify(out[who]));
    }
  } finally {
    await sb.close();
  }
  return out;
}

export async function runFanoutBench() {
  return {
    documented: { ...(await scenario('documented', 1)), goal: { ratio: 1.1, http429Pct: 1 } },
    half: { ...(await scenario('half', 0.5)), goal: { ratio: 1.25, http429Pct: 2 } },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await runFanoutBench(), null, 2));
}
