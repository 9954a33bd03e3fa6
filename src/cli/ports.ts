import { DigestError } from '../errors.js';

/** A port flag's value as a number, or a usage error naming the flag. */
export function parsePort(value: string, flag: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port > 65535) {
    throw new DigestError('E_USAGE', `${flag} "${value}" is not a port number`, { hint: 'Use 0–65535; 0 picks a free port' });
  }
  return port;
}

/**
 * Starting a server: a busy or forbidden port is the user's choice to fix (exit 2, one line), not
 * a bug with a stack trace.
 */
export async function listenOn<T>(port: number, flag: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EADDRINUSE') throw new DigestError('E_USAGE', `port ${port} is in use; pick another with ${flag}`, { cause: err });
    if (code === 'EACCES') throw new DigestError('E_USAGE', `port ${port} needs privileges this process does not have; pick another with ${flag}`, { cause: err });
    if (code === 'EADDRNOTAVAIL') throw new DigestError('E_USAGE', `cannot listen on that address (port ${port}): it is not an address of this machine`, { cause: err });
    throw err;
  }
}

function errnoCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    // errno codes (EADDRINUSE) have no underscore; ours (E_USAGE) do.
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}
