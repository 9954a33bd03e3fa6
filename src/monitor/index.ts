/**
 * Conditions, notify policies and monitors: `when:` / `change_key:` expressions, whether a run
 * posts, and the alert lifecycle (fire → update → remind → resolve) with its state in the ledger.
 */
export { compileExpression, evaluateCondition, evaluateKey, checkNames, canonicalJson } from './condition.js';
export type { Expression } from './condition.js';
export { decideNotify, parseObservation } from './notify.js';
export type { NotifyDecision, NotifyPolicy, Observation } from './notify.js';
export { stepMonitor, acknowledgeMonitor, withMessage, parseMonitorState, INITIAL_MONITOR_STATE } from './lifecycle.js';
export type { MonitorAction, MonitorPhase, MonitorSettings, MonitorState, MonitorStep } from './lifecycle.js';
export { loadMonitorState, saveMonitorState, loadObservation, saveObservation } from './ledger.js';
