// Pieces the benchmarks share: the exactly-once audit of a planned fan-out, our client and the
// naive one sending it, and a child process's peak RSS. A plan is an iterable of
// [chatId, contents[]] pairs: each content is expected exactly once in its chat.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { PachcaClient } from '../dist/pachca/index.js';

let tokenSeq = 0;
/** A token no other scenario of this process has used, so each starts with its own limits. */
export const freshToken = (name) => `bench-${name}-${process.pid}-${++tokenSeq}`;

/** Exactly-once check: every expected content once in its chat. */
export function audit(sb, plan) {
  let duplicates = 0;
  let lost = 0;
  for (const [chatId, contents] of plan) {
    const counts = new Map();
    for (const m of sb.store.messages(chatId)) counts.set(m.content, (counts.get(m.content) ?? 0) + 1);
    for (const c of contents) {
      const n = counts.get(c) ?? 0;
      if (n === 0) lost++;
      if (n > 1) duplicates += n - 1;
    }
  }
  return { duplicates, lost };
}

/** The plan through our client with its default settings, all at once (the client paces). */
export async function sendOurs(sb, plan) {
  const token = freshToken('ours');
  sb.acceptToken(token);
  const client = new PachcaClient({ token, baseUrl: sb.baseUrl });
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    [...plan].flatMap(([chatId, contents]) =>
      contents.map((content) => client.createMessage({ entity_type: 'discussion', entity_id: chatId, content }).catch(() => failed++)),
    ),
  );
  const elapsedMs = performance.now() - t0;
  await client.close();
  return { elapsedMs, failed };
}

/** Plain concurrent POSTs; after a 429, wait Retry-After and post again, up to `maxAttempts`. No pacing at all. */
export async function sendNaive(sb, plan, maxAttempts) {
  const token = freshToken('naive');
  sb.acceptToken(token);
  let failed = 0;
  const send = async (chatId, content) => {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const res = await fetch(`${sb.baseUrl}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: { entity_type: 'discussion', entity_id: chatId, content } }),
      });
      await res.arrayBuffer();
      if (res.status !== 429) return res.status < 300 || failed++;
      await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
    }
    failed++;
  };
  const t0 = performance.now();
  await Promise.all([...plan].flatMap(([chatId, contents]) => contents.map((c) => send(chatId, c))));
  return { elapsedMs: performance.now() - t0, failed };
}

/** A process's peak resident set (VmHWM) in MB, or null once it is gone. */
export function peakRssMb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}
