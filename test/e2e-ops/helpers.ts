/** Small real servers and probes for the production-surface tests (no mocks of project code). */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { FIXED_SLOT_RETENTION } from '../helpers/retention.js';

/**
 * The head of the configs these tests run: a SQLite ledger inside the project and no client
 * retries, so one injected fault fails a run at once.
 */
export const CONFIG_HEAD = `version: 1
state:
  url: sqlite:state/ledger.db
${FIXED_SLOT_RETENTION}
pachca:
  retry: { retries: 0 }`;

/** A port that was free a moment ago (for commands that print no bound port). */
export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface Recorder {
  url: string;
  hits: Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

/** A tiny HTTP server that answers 200 and records every request (a heartbeat monitor). */
export async function startRecorder(): Promise<Recorder> {
  const hits: Recorder['hits'] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    hits.push({ method: req.method ?? '', path: req.url ?? '' });
    res.statusCode = 200;
    res.end('OK');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** GET with a short deadline; a refused connection is `null`, not an exception. */
export async function get(url: string): Promise<{ status: number; text: string } | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    return { status: res.status, text: await res.text() };
  } catch {
    return null;
  }
}

/** JSON log lines of a `--log-format json` run (other lines are skipped). */
export function jsonLines(text: string): Array<Record<string, any>> {
  const out: Array<Record<string, any>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, any>);
    } catch {
      // not a log line
    }
  }
  return out;
}

/** The value of one Prometheus sample, e.g. `metric{a="b"}`; null when absent. */
export function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of metrics.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[l[1]!] = l[2]!;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return null;
}
