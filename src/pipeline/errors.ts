/** How a run's failures become DigestErrors: the run's own abort reason first, secrets masked. */
import { DigestError, isDigestError } from '../errors.js';
import { scrubSecrets } from '../observability/secrets.js';
import type { PlannedMessage } from './plan.js';

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw toDigestError(signal.reason, signal);
}

export function toDigestError(err: unknown, signal: AbortSignal, m?: PlannedMessage): DigestError {
  if (signal.aborted && isDigestError(signal.reason)) return signal.reason;
  if (isDigestError(err)) {
    if (m && err.code === 'E_DELIVERY' && !err.message.includes(m.target.label)) {
      return new DigestError(err.code, `${m.target.label}: ${err.message}`, { location: err.location, hint: err.hint, cause: err, details: err.details });
    }
    return err;
  }
  if (signal.aborted) return new DigestError('E_ABORTED', 'the run was cancelled', { cause: err });
  // Anything else is a bug: keep the original as the cause so its stack trace gets printed.
  return new DigestError('E_INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
}

export function scrubError(e: DigestError): DigestError {
  const message = scrubSecrets(e.message);
  const hint = e.hint === undefined ? undefined : scrubSecrets(e.hint);
  if (message === e.message && hint === e.hint && e.details.length === 0) return e;
  return new DigestError(e.code, message, {
    ...(e.location ? { location: e.location } : {}),
    ...(hint !== undefined ? { hint } : {}),
    cause: e.cause ?? e,
    details: e.details.map(scrubError),
  });
}
