/**
 * The fault matrix of "every digest lands once, nothing lost", through the built CLI against the
 * sandbox: every target kind (chat, DM, thread, for_each fan-out, split long message,
 * `delivery: update`) × every failure point (5xx after the commit, connection reset after the
 * commit, an answer slower than the client's timeout that lands later, a 429 storm, kill -9
 * between the server's commit and the ledger's record, SIGTERM in the middle). Each cell counts
 * the messages on the server: 0 duplicates and 0 lost. `faultMatrix` registers one ledger's rows
 * (fault-matrix.test.ts: SQLite; fault-matrix-pg.test.ts: PostgreSQL; both every fault); the
 * counts and each cell's wall time go to test-artifacts/<artifact>.json and the console, for the
 * closing note.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Fault } from '../../src/sandbox/index.js';
import type { StoredMessage } from '../../src/sandbox/index.js';
import { cliEnv, ledgerSuite, openLedger, pgUrl, runCli, terminate, waitFor, type LedgerStore } from './helpers.js';

export const TARGETS = ['chat', 'dm', 'thread', 'fanout', 'split', 'update'] as const;
type Target = (typeof TARGETS)[number];
export const FAULTS = ['5xx-after-commit', 'reset-after-commit', 'slow-lands-later', '429-storm', 'kill-9-before-record', 'sigterm-mid-run'] as const;
export type FaultName = (typeof FAULTS)[number];

const FAN_CHATS = [201, 202, 203];
const SPLIT_CHAT = 204;
const UPDATE_CHAT = 205;
const CHAT = 101;
const DM_USER = 2;
const PARAGRAPHS = 8;
// Consecutive daily slots: the update job's first post, then one per fault (by the fault's place in FAULTS).
const SLOTS = Array.from({ length: FAULTS.length + 1 }, (_, i) => `2026-11-${String(20 + i).padStart(2, '0')}T09:00:00+03:00`);

function config(threadId: number): string {
  const job = (name: string, body: string) => `
  - name: ${name}
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
${body}`;
  return `
version: 1
state:
  url: sqlite:state/ledger.db
  lease: 2s
  shutdown_grace: 1s
pachca:
  max_message_bytes: 1000
  timeouts: { request: 800ms }
  retry: { base_delay: 50ms, max_delay: 200ms, min_retry_after: 100ms, settle: 3s }
jobs:${job('chat', `    source: { type: static, data: {} }\n    template: t.hbs\n    target: { chat_id: ${CHAT} }`)}${job(
    'dm',
    `    source: { type: static, data: {} }\n    template: t.hbs\n    target: { user_id: ${DM_USER} }`,
  )}${job('thread', `    source: { type: static, data: {} }\n    template: t.hbs\n    target: { thread_id: ${threadId} }`)}${job(
    'fanout',
    `    source: { type: static, data: { chats: ${JSON.stringify(FAN_CHATS)} } }\n    for_each: metrics.chats\n    template: fan.hbs\n    target: { chat_id: "{{item}}" }`,
  )}${job(
    'split',
    `    source: { type: static, data: { paras: ${JSON.stringify(Array.from({ length: PARAGRAPHS }, (_, i) => i + 1))} } }\n    template: split.hbs\n    target: { chat_id: ${SPLIT_CHAT} }`,
  )}${job('update', `    delivery: update\n    source: { type: static, data: {} }\n    template: t.hbs\n    target: { chat_id: ${UPDATE_CHAT} }`)}
`;
}

const TEMPLATES = {
  't.hbs': 'Сводка {{job.name}} slot={{slot}}\n',
  'fan.hbs': 'Команда {{item}} slot={{slot}}\n',
  'split.hbs': `{{#each metrics.paras}}¶{{this}}@{{@root.slot}} ${'длинный текст абзаца '.repeat(12)}\n\n{{/each}}`,
};

interface Cell {
  ledger: LedgerStore;
  target: Target;
  fault: FaultName;
  duplicates: number;
  lost: number;
  runs: number;
  exitCodes: Array<number | null>;
  /** Wall time of the cell, for keeping the suite's time in view (never asserted). */
  ms: number;
}
/**
 * One ledger's rows of the matrix, as a `describe` (skipped when `enabled` is false). The children
 * use the config's SQLite ledger, or a fresh PostgreSQL schema per row.
 */
export function faultMatrix(o: { ledger: LedgerStore; faults: readonly FaultName[]; artifact: string; enabled?: boolean }): void {
  const matrix: Cell[] = [];

  afterAll(() => {
    if (matrix.length === 0) return;
    mkdirSync('test-artifacts', { recursive: true });
    writeFileSync(`test-artifacts/${o.artifact}.json`, `${JSON.stringify(matrix, null, 2)}\n`);
    const rows = o.faults.map((f) => `${f.padEnd(22)} ${TARGETS.map((t) => {
      const c = matrix.find((x) => x.target === t && x.fault === f);
      return (c ? `${c.duplicates}d/${c.lost}l` : '—').padEnd(8);
    }).join(' ')}`);
    console.log(`fault matrix, ${o.ledger} ledger (duplicates d / lost l per cell)\n${' '.repeat(23)}${TARGETS.map((t) => t.padEnd(8)).join(' ')}\n${rows.join('\n')}`);
  });

  describe.skipIf(o.enabled === false)(`fault matrix (${o.ledger} ledger): every target × ${o.faults.length === FAULTS.length ? 'every failure point' : o.faults.join(', ')}, counted on the server`, () => {
    const suite = ledgerSuite();
    let threadChat = 0;
    /** The children's environment: the sandbox, and the row's ledger. */
    let stateEnv: Record<string, string> = {};
    const env = () => cliEnv(suite.sandbox, stateEnv);

    async function setup(): Promise<void> {
      const sb = suite.sandbox;
      for (const id of [...FAN_CHATS, SPLIT_CHAT, UPDATE_CHAT]) sb.store.addChat({ id, name: `Чат ${id}` });
      const root = sb.store.createMessage({ entity_type: 'discussion', entity_id: 102, chat_id: 102, content: 'Обсуждение', user_id: 1 } as never);
      const { thread } = sb.store.ensureThread(root.id)!;
      threadChat = thread.chat_id;
      suite.project(config(thread.id), TEMPLATES);
      stateEnv = o.ledger === 'postgres' ? { PACHCA_DIGEST_STATE: pgUrl(suite.pgSchema('matrix')) } : {};
      // The update job's message exists before the faults: every cell edits it.
      const first = await runCli(['run-job', 'update', '--slot', SLOTS[0]!], { cwd: suite.p.dir, env: env() });
      expect(first.code, first.stderr).toBe(0);
    }

    /** The fault of a cell, aimed at the request that posts (or, for update, edits) the message. */
    function faultFor(target: Target, fault: FaultName): Fault {
      const method = target === 'update' ? 'PUT' : 'POST';
      // Split: the 2nd part fails, so the retry must send only the missing parts. Fan-out: the 2nd message.
      const skip = target === 'split' || target === 'fanout' ? 1 : 0;
      const at = { method, path: '/messages', skip };
      switch (fault) {
        case '5xx-after-commit':
          return { ...at, kind: 'status', status: 502, when: 'after' };
        case 'reset-after-commit':
          return { ...at, kind: 'reset-after' };
        case 'slow-lands-later':
          return { ...at, kind: 'late', ms: 1500 };
        case '429-storm':
          return { ...at, kind: 'rate-limit', retryAfter: 0, times: 3 };
        case 'kill-9-before-record':
        case 'sigterm-mid-run':
          // Stored, then the answer is held, for this request and every later one (the client's
          // retries too): the process dies (or is stopped) before it can record any of them.
          return { ...at, kind: 'delay', ms: 30_000, when: 'after', times: Infinity };
      }
    }

    const isOf = (slotIso: string) => (m: StoredMessage) => m.content.includes(`slot=${slotIso}`) || m.content.includes(`@${slotIso}`);

    /** duplicates and lost of one cell, from the server's store. */
    function count(target: Target, slotIso: string): { duplicates: number; lost: number } {
      const sb = suite.sandbox;
      const of = isOf(slotIso);
      const tally = (counts: number[]) => ({
        duplicates: counts.reduce((s, c) => s + Math.max(0, c - 1), 0),
        lost: counts.filter((c) => c === 0).length,
      });
      switch (target) {
        case 'chat':
          return tally([sb.store.messages(CHAT).filter(of).length]);
        case 'dm':
          return tally([sb.store.messages().filter((m) => m.entity_type === 'user' && m.entity_id === DM_USER && of(m)).length]);
        case 'thread':
          return tally([sb.store.messages(threadChat).filter(of).length]);
        case 'fanout':
          return tally(FAN_CHATS.map((c) => sb.store.messages(c).filter(of).length));
        case 'split': {
          const texts = sb.store.messages(SPLIT_CHAT).filter(of).map((m) => m.content);
          return tally(Array.from({ length: PARAGRAPHS }, (_, i) => texts.filter((t) => t.includes(`¶${i + 1}@${slotIso}`)).length));
        }
        case 'update': {
          // One message for good, edited to the cell's slot; any other message is a duplicate.
          const all = sb.store.messages(UPDATE_CHAT);
          return { duplicates: Math.max(0, all.length - 1), lost: all.filter((m) => m.deleted_at === null && of(m)).length === 1 ? 0 : 1 };
        }
      }
    }

    /** `run-job` until a run owns the slot and finishes it (a live lease of a killed run makes earlier ones no-ops). */
    async function rerunUntilDone(job: string, slot: string, codes: Array<number | null>): Promise<number> {
      let runs = 0;
      await waitFor(
        async () => {
          const r = await runCli(['run-job', job, '--slot', slot], { cwd: suite.p.dir, env: env(), timeoutMs: 30_000 });
          runs++;
          codes.push(r.code);
          if (/is being run by/.test(r.stderr)) return false;
          return /succeeded|already succeeded/.test(r.stderr) || (r.code !== 0 && runs > 3);
        },
        { timeoutMs: 40_000, intervalMs: 300, what: `a re-run of ${job} to finish the slot` },
      );
      return runs;
    }

    async function cell(target: Target, fault: FaultName, slot: string): Promise<Cell> {
      const sb = suite.sandbox;
      const started = Date.now();
      const codes: Array<number | null> = [];
      let runs = 1;
      sb.faults.add(faultFor(target, fault));
      if (fault === 'kill-9-before-record' || fault === 'sigterm-mid-run') {
        const since = sb.requests().at(-1)?.seq ?? 0;
        const child = suite.children.spawn(['run-job', target, '--slot', slot], { cwd: suite.p.dir, env: env() });
        // The client gave up waiting on a held (stored) request: it is checking or retrying now.
        await waitFor(
          () => {
            if (child.child.exitCode !== null) throw new Error(`run-job exited early (${child.child.exitCode}):\n${child.stderr()}`);
            return sb.requests().some((e) => e.seq > since && e.fault === 'delay');
          },
          { timeoutMs: 20_000, what: `the held request of ${target}` },
        );
        if (fault === 'kill-9-before-record') {
          child.child.kill('SIGKILL');
          expect((await child.exited).signal).toBe('SIGKILL');
          codes.push(null);
        } else {
          // Handled: the run is interrupted after shutdown_grace and hands its claim back (exit 1).
          const exit = await terminate(child, 15_000);
          expect(exit, `${target} × SIGTERM`).toEqual({ code: 1, signal: null });
          codes.push(exit.code);
        }
        sb.faults.clear();
        runs += await rerunUntilDone(target, slot, codes);
      } else {
        const r = await runCli(['run-job', target, '--slot', slot], { cwd: suite.p.dir, env: env(), timeoutMs: 30_000 });
        codes.push(r.code);
        expect(sb.faults.list(), `${target} × ${fault}: the fault was applied`).toHaveLength(0);
        sb.faults.clear();
        // The run itself resolves the fault; a failed run would leave the slot to a re-run (counted).
        if (r.code !== 0) runs += await rerunUntilDone(target, slot, codes);
      }
      const iso = new Date(slot).toISOString();
      return { ledger: o.ledger, target, fault, ...count(target, iso), runs, exitCodes: codes, ms: Date.now() - started };
    }

    it.each(o.faults.map((f) => [f, FAULTS.indexOf(f)] as const))('%s: every target once', async (fault, i) => {
      await setup();
      const slot = SLOTS[i + 1]!;
      for (const target of TARGETS) {
        const c = await cell(target, fault, slot);
        matrix.push(c);
        expect({ target, fault, duplicates: c.duplicates, lost: c.lost }).toEqual({ target, fault, duplicates: 0, lost: 0 });
        // The non-fatal faults are resolved inside the first run (no re-run needed).
        if (fault !== 'kill-9-before-record' && fault !== 'sigterm-mid-run') expect(c.exitCodes, `${target} × ${fault}`).toEqual([0]);
      }
      // The row's own ledger decided: each slot succeeded there, a crashed one after a second claim.
      const ledger = await openLedger(stateEnv.PACHCA_DIGEST_STATE ?? 'sqlite:state/ledger.db', suite.p);
      try {
        for (const target of TARGETS) {
          const run = (await ledger.history({ job: target, limit: 10 })).find((r) => r.slot.getTime() === Date.parse(slot));
          expect({ target, status: run?.status }).toEqual({ target, status: 'succeeded' });
          if (fault === 'kill-9-before-record' || fault === 'sigterm-mid-run') expect(run!.attempts, target).toBeGreaterThanOrEqual(2);
        }
      } finally {
        await ledger.close();
      }
    }, 300_000);
  });
}
