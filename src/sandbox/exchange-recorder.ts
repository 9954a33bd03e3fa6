/**
 * Test-only: every API request a sandbox receives, with what it answered, appended as one JSON
 * line to a file under $PACHCA_DIGEST_SANDBOX_EXCHANGES (a directory). The test run sets it in
 * its global setup so that every sandbox of every test, in-process or inside a spawned CLI, is
 * recorded, and validates the files against Pachca's OpenAPI spec after all tests
 * (test/conformance/). Unset for users: then nothing is recorded and this costs nothing. The
 * sandbox knows nothing of the spec; it only writes down what went over the wire.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultKind } from './faults.js';

export const EXCHANGES_DIR_ENV = 'PACHCA_DIGEST_SANDBOX_EXCHANGES';
/** Which test the exchanges belong to (the test run keeps it current; spawned CLIs inherit it). */
export const EXCHANGES_LABEL_ENV = 'PACHCA_DIGEST_SANDBOX_EXCHANGES_LABEL';

/** Multipart bodies (the direct upload) are kept up to here: the form fields come before the file. */
const MULTIPART_KEEP_BYTES = 64 * 1024;

export interface RecordedExchange {
  /** The test (file > name) that was current when it happened, from EXCHANGES_LABEL_ENV. */
  label: string | null;
  pid: number;
  method: string;
  /** The route table's prefix (API_BASE_PATH, or STORAGE_BASE_PATH for the direct upload URL). */
  base: string;
  /** The route's path template, e.g. `/messages/{id}`; null when no route matched. */
  template: string | null;
  path: string;
  query: string;
  request: { contentType: string | null; userAgent: string | null; body: string; truncated?: true };
  /** null: no answer was sent (a socket reset, the client hung up first). */
  response: { status: number; contentType: string | null; body: unknown } | null;
  /** The injected fault that shaped this answer (null: the sandbox's own answer). */
  fault: FaultKind | null;
  /** `status` faults: `after` when the request was handled (stored) before the injected answer. */
  faultWhen?: 'before' | 'after';
}

export type ExchangeRecorder = (x: Omit<RecordedExchange, 'label' | 'pid'>) => void;

const fds = new Map<string, number>();
let exitHook = false;

/** The recorder the environment asks for, or null (the normal case: nothing is recorded). */
export function exchangeRecorder(env: NodeJS.ProcessEnv = process.env): ExchangeRecorder | null {
  const dir = env[EXCHANGES_DIR_ENV];
  if (!dir) return null;
  return (x) => {
    let fd = fds.get(dir);
    if (fd === undefined) {
      // One file per process and directory: processes never interleave their lines.
      fd = openSync(join(dir, `${process.pid}-${fds.size}.jsonl`), 'a');
      fds.set(dir, fd);
      if (!exitHook) {
        exitHook = true;
        process.once('exit', () => {
          for (const f of fds.values()) closeSync(f);
          fds.clear();
        });
      }
    }
    const request = keepRequest(x.request);
    // Synchronous on purpose: a CLI killed with SIGKILL right after an answer still has it on disk.
    writeSync(fd, `${JSON.stringify({ label: env[EXCHANGES_LABEL_ENV] ?? null, pid: process.pid, ...x, request })}\n`);
  };
}

function keepRequest(r: RecordedExchange['request']): RecordedExchange['request'] {
  if (!/^multipart\//i.test(r.contentType ?? '') || r.body.length <= MULTIPART_KEEP_BYTES) return r;
  return { ...r, body: r.body.slice(0, MULTIPART_KEEP_BYTES), truncated: true };
}
