/**
 * Monitor and notify state in the run ledger, through its key-value flags (both drivers have them),
 * so it holds across restarts and is shared by replicas on one PostgreSQL. Runs of one job are
 * serialised by the ledger's (job, slot) claim, so one run reads and writes a job's state at a time.
 */
import type { StateStore } from '../state/index.js';
import { parseMonitorState, type MonitorState } from './lifecycle.js';
import { parseObservation, type Observation } from './notify.js';

const monitorKey = (job: string) => `monitor:${job}`;
const notifyKey = (job: string) => `notify:${job}`;

export async function loadMonitorState(store: StateStore, job: string): Promise<MonitorState | null> {
  return parseMonitorState(await store.getFlag(monitorKey(job)));
}

export async function saveMonitorState(store: StateStore, job: string, state: MonitorState): Promise<void> {
  await store.setFlag(monitorKey(job), JSON.stringify(state));
}

export async function loadObservation(store: StateStore, job: string): Promise<Observation | null> {
  return parseObservation(await store.getFlag(notifyKey(job)));
}

export async function saveObservation(store: StateStore, job: string, o: Observation): Promise<void> {
  await store.setFlag(notifyKey(job), JSON.stringify(o));
}
