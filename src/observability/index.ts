/**
 * Observability: logs, alerts, health endpoints. Metrics (./metrics.ts) are deliberately not
 * exported here: they load prom-client, which only `run --http-port` needs — import that module
 * dynamically.
 */
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export { createLogger, attachLogging, formatPrettyLine, LOG_DEFAULTS, LOG_LEVELS } from './log.js';
export type { LogOptions, LogLevel, LogFormat, LogStream } from './log.js';
export { registerSecret, clearSecrets, scrubSecrets, redactDeep, REDACTED } from './secrets.js';
export { decideAlert, alertTransition, nextAlertingFlag, evaluateAlert, formatAlert, escapeMarkdown, pingHeartbeat, ALERT_DEFAULTS } from './alerts.js';
export type { AlertKind, AlertDecisionInput, AlertTextInput, HeartbeatOptions } from './alerts.js';
export { startHealthServer, HEALTH_DEFAULTS } from './http.js';
export type { HealthServer, HealthServerOptions, HealthChecks, CheckResult, MetricsSource } from './http.js';
