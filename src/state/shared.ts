import { randomUUID } from 'node:crypto';
import { DigestError, isDigestError } from '../errors.js';
import type { DeliveryRecord, RunRecord } from './types.js';

/** A run id is the token of one claim: every (re-)claim issues a new one, so a process that lost its claim
 * (lease expired, slot taken over) can no longer finish the run or record deliveries into it. */
export function newRunId(): string {
  return randomUUID();
}

/** Anything a driver throws becomes E_STATE with the operation named; our own errors pass through. */
export function stateError(op: string, where: string, cause: unknown): DigestError {
  if (isDigestError(cause)) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new DigestError('E_STATE', `run ledger (${where}): ${op} failed: ${message}`, {
    cause,
    hint: 'check that the state database is reachable and writable (state.url in jobs.config.yaml)',
  });
}

export function unknownRunError(op: string, runId: string): DigestError {
  return new DigestError('E_STATE', `run ledger: cannot ${op}: run ${runId} is not the current claim of its slot`, {
    hint:
      'the lease expired and another process took the slot over (or the run was pruned); ' +
      'this process must stop working on it — raise state.lease if runs legitimately take longer',
  });
}

export function closedError(): DigestError {
  return new DigestError('E_STATE', 'run ledger: the state store is closed', {
    hint: 'this is a bug: an operation ran after shutdown closed the store',
  });
}

/** Deliveries in a stable order: when they happened, then by key. */
export function sortDeliveries(list: DeliveryRecord[]): DeliveryRecord[] {
  return list.sort((a, b) => a.deliveredAt.getTime() - b.deliveredAt.getTime() || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function parseJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

/** JSON for a column, `null` for "nothing" (undefined would be dropped silently by JSON.stringify). */
export function toJson(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return JSON.stringify(value);
}

export function checkDate(name: string, value: Date): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new DigestError('E_STATE', `run ledger: ${name} is not a valid Date`, { hint: 'this is a bug in the caller' });
  }
  return ms;
}

export type { RunRecord };
