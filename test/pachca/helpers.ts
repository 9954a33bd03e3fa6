import { Emitter, type DigestEvents } from '../../src/events.js';
import { PachcaClient, type PachcaClientOptions } from '../../src/pachca/index.js';
import type { Sandbox } from '../../src/sandbox/index.js';

let n = 0;
/** A fresh token per test: limiters are shared per token, tests must not share pauses. */
export const freshToken = () => `test-token-${process.pid}-${Date.now()}-${++n}-SECRETVALUE`;

export interface Recorded {
  events: Emitter<DigestEvents>;
  log: { event: keyof DigestEvents; payload: any }[];
  of<K extends keyof DigestEvents>(event: K): DigestEvents[K][];
}

export function recorder(): Recorded {
  const events = new Emitter<DigestEvents>();
  const log: Recorded['log'] = [];
  const names: (keyof DigestEvents)[] = [
    'pachca:request',
    'pachca:rate-limited',
    'pachca:retry',
    'pachca:paused',
    'pachca:limiter-wait',
    'pachca:breaker',
    'pachca:deduplicated',
  ];
  for (const event of names) events.on(event, (payload) => log.push({ event, payload }));
  return { events, log, of: (event) => log.filter((l) => l.event === event).map((l) => l.payload) };
}

/**
 * A client against the sandbox with fast retries, so tests stay short. Its fresh token is
 * (or the one in `opts`) is registered with the (strict) sandbox first.
 */
export function clientFor(sb: Sandbox, opts: Partial<PachcaClientOptions> = {}): PachcaClient {
  const token = opts.token ?? freshToken();
  sb.acceptToken(token);
  return new PachcaClient({
    baseUrl: sb.baseUrl,
    ...opts,
    token,
    retry: { baseDelayMs: 20, maxDelayMs: 100, settleMs: 100, ...opts.retry },
  });
}

/** Sandbox request log entries for one endpoint label, e.g. `POST /messages`. */
export const requestsTo = (sb: Sandbox, endpoint: string) => sb.requests().filter((r) => r.endpoint === endpoint);
