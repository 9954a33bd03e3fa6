/**
 * The sandbox's request log (capped, oldest dropped first) and the counters behind
 * `/__sandbox/stats`. Entries never hold headers: the token stays out.
 */
import type { FaultKind } from './faults.js';
import type { LimitName } from './rate-limit.js';

export interface RequestLogEntry {
  seq: number;
  time: string;
  method: string;
  /** Path and query (never headers: the token stays out of the log). */
  path: string;
  /** Route label such as `POST /messages`; null for unknown paths. */
  endpoint: string | null;
  /** null when no answer was sent (socket reset, client gone). */
  status: number | null;
  outcome: 'answered' | 'reset' | 'client-closed';
  bucket: string | null;
  /** The limit that answered 429 (`token`: the token-wide budget), null when none did. */
  limitedBy: LimitName | null;
  chatId: number | null;
  fault: FaultKind | null;
  durationMs: number;
}

export interface SandboxStats {
  requests: number;
  /** `POST /messages` → { "201": 12, "429": 3 }; unanswered requests count under "reset". */
  byEndpoint: Record<string, Record<string, number>>;
  rateLimited: number;
  /** 429s by the limit that answered them (`token`, `messageWrite`, …). */
  rateLimitedBy: Partial<Record<LimitName, number>>;
  faultsInjected: number;
  faultsByKind: Partial<Record<FaultKind, number>>;
}

/**
 * One API request and the sandbox's own answer to it, whole (bodies included, the token not):
 * what `onExchange` hands a conformance check. Requests cut short by a reset or answered by an
 * injected status fault are not exchanges (their answer is not the sandbox's).
 */
export interface SandboxExchange {
  method: string;
  /** The route table's prefix: API_BASE_PATH for the API, STORAGE_BASE_PATH for the direct upload URL. */
  base: string;
  /** The route's path template under that prefix, e.g. `/messages/{id}`. */
  template: string;
  /** Path under the API base, and the query string (with `?`, or ''). */
  path: string;
  query: string;
  request: { contentType: string | null; userAgent: string | null; body: string };
  response: { status: number; contentType: string | null; headers: Record<string, string>; body: unknown };
}

export class RequestLog {
  #log: RequestLogEntry[] = [];
  #seq = 0;
  #stats: SandboxStats = emptyStats();

  constructor(readonly size: number) {}

  nextSeq(): number {
    return ++this.#seq;
  }

  record(e: RequestLogEntry): void {
    this.#log.push(e);
    if (this.#log.length > this.size) this.#log = this.#log.slice(-Math.ceil(this.size * 0.9));
    const stats = this.#stats;
    stats.requests++;
    const key = e.endpoint ?? 'unknown';
    const byStatus = (stats.byEndpoint[key] ??= {});
    const s = e.status === null ? e.outcome : String(e.status);
    byStatus[s] = (byStatus[s] ?? 0) + 1;
    if (e.status === 429) stats.rateLimited++;
    if (e.limitedBy) stats.rateLimitedBy[e.limitedBy] = (stats.rateLimitedBy[e.limitedBy] ?? 0) + 1;
    if (e.fault) {
      stats.faultsInjected++;
      stats.faultsByKind[e.fault] = (stats.faultsByKind[e.fault] ?? 0) + 1;
    }
  }

  entries(): RequestLogEntry[] {
    return this.#log.map((e) => ({ ...e }));
  }

  stats(): SandboxStats {
    return structuredClone(this.#stats);
  }

  reset(): void {
    this.#log = [];
    this.#stats = emptyStats();
  }
}

function emptyStats(): SandboxStats {
  return { requests: 0, byEndpoint: {}, rateLimited: 0, rateLimitedBy: {}, faultsInjected: 0, faultsByKind: {} };
}
