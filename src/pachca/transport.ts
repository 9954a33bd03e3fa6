/**
 * How one API request travels. By default over node:http/https: Node parses HTTP with the native
 * llhttp already in its binary, while undici's parser is WebAssembly compiled in every process,
 * and V8's optimizing tier-up of that module alone peaks at ~30 MB of RSS (measured: a 1,000-job
 * daemon and a 10,000-DM run both peaked on it). A caller's own undici dispatcher (proxy, tests)
 * is still used as given.
 *
 * Failures carry the codes undici gives the same faults (UND_ERR_CONNECT_TIMEOUT,
 * UND_ERR_HEADERS_TIMEOUT, UND_ERR_BODY_TIMEOUT), so attempt.ts classifies both transports by one
 * table, and retry events read the same whichever one is in use.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Dispatcher } from 'undici';
import type { TimeoutSettings } from './defaults.js';

export interface TransportResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface Transport {
  send(method: string, url: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<TransportResponse>;
  close(): Promise<void>;
}

/** Idle keep-alive sockets are closed after this long (undici's default keepAliveTimeout), before a server drops them mid-reuse. */
const IDLE_SOCKET_MS = 4_000;

class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** A caller's undici dispatcher, used as given (it is theirs to close). */
export function dispatcherTransport(dispatcher: Dispatcher): Transport {
  return {
    async send(method, url, headers, body, signal) {
      const u = new URL(url);
      const res = await dispatcher.request({ origin: u.origin, path: u.pathname + u.search, method: method as Dispatcher.HttpMethod, headers, body, signal });
      return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
    },
    close: async () => undefined,
  };
}

/** node:http(s) with a bounded keep-alive pool per protocol: `maxConnections` sockets at most, as undici's Agent `connections`. */
export function nodeTransport(maxConnections: number, timeouts: Pick<TimeoutSettings, 'connectMs' | 'headersMs' | 'bodyMs'>): Transport {
  const options = { keepAlive: true, maxSockets: maxConnections, timeout: IDLE_SOCKET_MS };
  let http: HttpAgent | undefined;
  let https: HttpsAgent | undefined;
  return {
    send(method, url, headers, body, signal) {
      const u = new URL(url);
      const secure = u.protocol === 'https:';
      const agent = secure ? (https ??= new HttpsAgent(options)) : (http ??= new HttpAgent(options));
      const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
      const all = payload ? { ...headers, 'content-length': String(payload.length) } : headers;
      return new Promise<TransportResponse>((resolve, reject) => {
        const req = (secure ? httpsRequest : httpRequest)(u, { method, headers: all, agent, signal });
        let timer: ReturnType<typeof setTimeout> | undefined;
        const arm = (ms: number, code: string, message: string) => {
          clearTimeout(timer);
          timer = setTimeout(() => {
            // Settled with this code first: what the destroyed socket reports after it says less.
            reject(new CodedError(code, message));
            req.destroy();
          }, ms);
        };
        const fail = (err: Error) => {
          clearTimeout(timer);
          reject(err);
        };
        req.on('error', fail);
        req.on('socket', (socket) => {
          // A reused keep-alive socket is connected already; a new one must connect within connectMs.
          if (socket.connecting) {
            arm(timeouts.connectMs, 'UND_ERR_CONNECT_TIMEOUT', `connect timeout after ${timeouts.connectMs} ms`);
            socket.once(secure ? 'secureConnect' : 'connect', () => arm(timeouts.headersMs, 'UND_ERR_HEADERS_TIMEOUT', `no response headers within ${timeouts.headersMs} ms`));
          } else {
            arm(timeouts.headersMs, 'UND_ERR_HEADERS_TIMEOUT', `no response headers within ${timeouts.headersMs} ms`);
          }
        });
        req.on('response', (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          const idle = () => arm(timeouts.bodyMs, 'UND_ERR_BODY_TIMEOUT', `response body idle for ${timeouts.bodyMs} ms`);
          idle();
          res.on('data', (c: Buffer) => {
            chunks.push(c);
            idle();
          });
          res.on('error', fail);
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
          });
        });
        req.end(payload);
      });
    },
    async close() {
      http?.destroy();
      https?.destroy();
    },
  };
}
