/**
 * Injected failures: the misbehaviour of a real network and a real API on demand, so client
 * retries, timeouts and the ambiguous-POST dedupe can be tested against a real socket.
 */
import { z } from 'zod';

export interface FaultMatch {
  /** HTTP method, case-insensitive. */
  method?: string;
  /**
   * A path prefix (matched against the full path and the path under the API base, so both
   * `/api/shared/v1/messages` and `/messages` work), a `/regex/flags` string, or a RegExp.
   */
  path?: string | RegExp;
  /** The chat the request concerns (POST target, `chat_id` query, the edited message's chat). */
  chatId?: number;
  /** How many matching requests it applies to (default 1; Infinity for all). */
  times?: number;
  /** Let this many matching requests through untouched first (e.g. fail the 2nd part of a split message). */
  skip?: number;
}

export type FaultSpec =
  | {
      kind: 'status';
      status: number;
      /** A string is sent raw (e.g. a proxy's HTML page), anything else as JSON. */
      body?: unknown;
      headers?: Record<string, string>;
      /**
       * `before` (default): answer instead of handling, nothing is stored. `after`: handle (and
       * store) the request, then answer this status anyway (a gateway that failed after the commit).
       */
      when?: 'before' | 'after';
    }
  /** Destroy the socket before handling: nothing is stored. */
  | { kind: 'reset-before' }
  /** Handle (and store) the request, then destroy the socket without answering. */
  | { kind: 'reset-after' }
  /** Wait `ms` before handling (`when: 'after'`: handle first, then wait before answering). */
  | { kind: 'delay'; ms: number; when?: 'before' | 'after' }
  /** Answer 429 with `Retry-After: retryAfter` (seconds, default 1). */
  | { kind: 'rate-limit'; retryAfter?: number }
  /**
   * Hold the request `ms`, then handle (and store) it even if the client gave up meanwhile: a
   * server slower than the client's timeout, whose message lands after the client stopped waiting.
   */
  | { kind: 'late'; ms: number };

export type Fault = FaultMatch & FaultSpec;
export type FaultKind = FaultSpec['kind'];

export interface ActiveFault {
  id: number;
  fault: Fault;
  remaining: number;
  applied: number;
  /** Matching requests let through so far (see `skip`). */
  skipped: number;
}

export interface FaultRequest {
  method: string;
  path: string;
  apiPath: string | null;
  chatId: number | undefined;
}

export class FaultRegistry {
  #faults: ActiveFault[] = [];
  #nextId = 1;

  add(fault: Fault): ActiveFault {
    const times = fault.times ?? 1;
    if (!(times > 0)) throw new Error(`sandbox fault: times must be positive, got ${times}`);
    const active: ActiveFault = { id: this.#nextId++, fault, remaining: times, applied: 0, skipped: 0 };
    this.#faults.push(active);
    return active;
  }

  remove(id: number): boolean {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((f) => f.id !== id);
    return this.#faults.length !== before;
  }

  clear(): void {
    this.#faults = [];
  }

  list(): ActiveFault[] {
    return [...this.#faults];
  }

  /** The first fault matching the request, consumed once (dropped when used up). */
  take(req: FaultRequest): Fault | undefined {
    const hit = this.#faults.find((f) => matches(f.fault, req));
    if (!hit) return undefined;
    if (hit.skipped < (hit.fault.skip ?? 0)) {
      hit.skipped++;
      return undefined;
    }
    hit.applied++;
    hit.remaining--;
    if (hit.remaining <= 0) this.#faults = this.#faults.filter((f) => f !== hit);
    return hit.fault;
  }
}

function matches(f: Fault, req: FaultRequest): boolean {
  if (f.method && f.method.toUpperCase() !== req.method) return false;
  if (f.chatId !== undefined && f.chatId !== req.chatId) return false;
  if (f.path !== undefined) {
    const re = toRegExp(f.path);
    if (re) {
      re.lastIndex = 0;
      if (!re.test(req.path)) return false;
    } else {
      const p = f.path as string;
      if (!req.path.startsWith(p) && !(req.apiPath !== null && req.apiPath.startsWith(p))) return false;
    }
  }
  return true;
}

function toRegExp(p: string | RegExp): RegExp | null {
  if (p instanceof RegExp) return p;
  const m = /^\/(.+)\/([a-z]*)$/.exec(p);
  return m ? new RegExp(m[1]!, m[2]) : null;
}

// ---- JSON form (POST /__sandbox/faults) ----

const times = z
  .union([z.number().positive(), z.literal('Infinity'), z.null()])
  .optional()
  .transform((v) => (v === null || v === 'Infinity' ? Infinity : v));

const match = {
  method: z.string().optional(),
  path: z.string().optional(),
  chatId: z.number().int().optional(),
  times,
  skip: z.number().int().min(0).optional(),
};

const faultSchema = z.discriminatedUnion('kind', [
  z.object({
    ...match,
    kind: z.literal('status'),
    status: z.number().int().min(100).max(599),
    body: z.unknown().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    when: z.enum(['before', 'after']).optional(),
  }),
  z.object({ ...match, kind: z.literal('reset-before') }),
  z.object({ ...match, kind: z.literal('reset-after') }),
  z.object({ ...match, kind: z.literal('delay'), ms: z.number().min(0), when: z.enum(['before', 'after']).optional() }),
  z.object({ ...match, kind: z.literal('rate-limit'), retryAfter: z.number().min(0).optional() }),
  z.object({ ...match, kind: z.literal('late'), ms: z.number().min(0) }),
]);

/** Parses one fault or an array of them from JSON; throws a readable message on bad input. */
export function parseFaults(body: unknown): Fault[] {
  const list = Array.isArray(body) ? body : [body];
  return list.map((item, i) => {
    const r = faultSchema.safeParse(item);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new Error(`fault ${i}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    return r.data as Fault;
  });
}
