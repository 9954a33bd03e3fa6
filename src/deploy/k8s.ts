/**
 * Kubernetes manifests from a loaded config: one ConfigMap (config + every template) and one
 * `batch/v1` CronJob per job running `run-job <name>` in the image built by the repo's Dockerfile,
 * plus one running `events` every minute when button clicks come by history polling.
 *
 * Retries live in the app and the run ledger, so Kubernetes never retries a pod (`backoffLimit: 0`)
 * and the ledger (PostgreSQL shared by all pods, from the Secret) decides whether a slot is done.
 */
import { posix, relative, isAbsolute, sep } from 'node:path';
import { stringify } from 'yaml';
import { DigestError } from '../errors.js';
import type { LoadedConfig } from '../config/index.js';
import { baseLabels, cronJob, EVENTS_RUN, jobRun, shortHash } from './k8s-cronjob.js';
import { K8S_DEFAULTS } from './k8s-defaults.js';

export interface K8sResources {
  requests?: { cpu?: string; memory?: string };
  limits?: { cpu?: string; memory?: string };
}

export interface K8sOptions {
  image: string;
  namespace: string;
  /** File name of the config inside the pod. Default `jobs.config.yaml`. */
  configFileName?: string;
  /** Template path relative to `config.templatesDir` (`/`-separated) → content. */
  templateFiles: Record<string, string>;
  /** Files the sources read, relative to the config directory (see ./source-files.ts). */
  sourceFiles?: Array<{ path: string; content: string; executable?: boolean }>;
  /** The config file as written (with `${VAR}` placeholders, never resolved secrets). */
  configText: string;
  /** Secret holding `token` and `state-url` (and any other `${VAR}` the config uses). */
  secretName?: string;
  resources?: K8sResources;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  /**
   * Jobs whose schedule has a seconds field other than `0` cannot be CronJobs.
   * `error` (default): refuse, listing them. `skip`: leave them out with a comment in the output
   * (run them under the daemon Deployment instead).
   */
  unsupportedSchedules?: 'error' | 'skip';
}

/** Macros the Kubernetes CronJob controller accepts as they are. */
const K8S_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

export type ScheduleConversion = { ok: true; schedule: string } | { ok: false; reason: string };

/**
 * A CronJob schedule for a job schedule: 5 fields and macros as they are; 6 fields only when the
 * seconds field is `0` (the same instants, seconds dropped). Anything finer than a minute cannot
 * be expressed.
 */
export function toCronJobSchedule(schedule: string): ScheduleConversion {
  const text = schedule.trim();
  if (text.startsWith('@')) {
    return K8S_MACROS.has(text.toLowerCase())
      ? { ok: true, schedule: text.toLowerCase() }
      : { ok: false, reason: `macro ${text} is not supported by Kubernetes CronJob` };
  }
  const fields = text.split(/\s+/);
  if (fields.length === 5) return { ok: true, schedule: fields.join(' ') };
  if (fields.length === 6) {
    if (/^0+$/.test(fields[0]!)) return { ok: true, schedule: fields.slice(1).join(' ') };
    return { ok: false, reason: `schedule "${text}" runs at seconds "${fields[0]}", but a CronJob has minute precision` };
  }
  return { ok: false, reason: `schedule "${text}" has ${fields.length} fields; a CronJob needs 5` };
}

/** DNS-1123 name for the CronJob; a hash keeps names that had to be changed or cut distinct. */
export function cronJobName(job: string): string {
  const prefix = K8S_DEFAULTS.namePrefix;
  const max = K8S_DEFAULTS.maxCronJobName - prefix.length;
  const clean = job
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  if (clean === job && clean.length <= max) return prefix + clean;
  const hash = shortHash(job);
  const head = clean.slice(0, max - hash.length - 1).replace(/-$/, '');
  return `${prefix}${head ? `${head}-` : ''}${hash}`;
}

/** A ConfigMap key for a file path (keys allow only `[-._a-zA-Z0-9]`). */
function configMapKey(path: string, used: Set<string>): string {
  let key = path.replace(/\//g, '__').replace(/[^-._a-zA-Z0-9]/g, '_');
  if (key.startsWith('.')) key = `_${key}`;
  if (key.length > 240 || used.has(key)) key = `${key.slice(0, 240)}-${shortHash(path)}`;
  used.add(key);
  return key;
}

function cleanRelPath(path: string, what: string): string {
  const p = posix.normalize(path.split(sep).join('/')).replace(/^\.\//, '');
  if (p === '' || p === '.' || posix.isAbsolute(p) || p === '..' || p.startsWith('../')) {
    throw new DigestError('E_CONFIG', `${what} path "${path}" must stay inside its directory`, {
      hint: 'Keep templates under the templates directory next to jobs.config.yaml',
    });
  }
  return p;
}

/** `${VAR}` names the config text refers to (comments ignored), for env entries from the Secret. */
export function referencedEnv(configText: string): string[] {
  const names = new Set<string>();
  for (const line of configText.split('\n')) {
    if (line.trimStart().startsWith('#')) continue;
    for (const m of line.replace(/\$\$\{/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g)) names.add(m[1]!);
  }
  return [...names].sort();
}

/** `SALES_DB_URL` → `sales-db-url`: the Secret key conventionally holding that variable. */
export function secretKeyForEnv(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

/** Multi-document YAML: the ConfigMap, then one CronJob per job (in config order), then the events CronJob (events.mode: poll). */
export function renderK8sManifests(config: LoadedConfig, options: K8sOptions): string {
  const d = K8S_DEFAULTS;
  if (!options.image?.trim()) throw new DigestError('E_USAGE', 'No container image given', { hint: 'Pass --image, e.g. ghcr.io/acme/pachca-digest:1.2.0' });
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.namespace) || options.namespace.length > 63) {
    throw new DigestError('E_USAGE', `"${options.namespace}" is not a valid Kubernetes namespace`, {
      hint: 'Use lowercase letters, digits and "-", at most 63 characters',
    });
  }
  assertNoLiteralSecrets(config, options.configText);

  const secretName = options.secretName ?? d.secretName;
  const configFileName = cleanRelPath(options.configFileName ?? d.configFileName, 'Config file');

  // Paths inside the mount mirror the config directory, so relative paths in the config (the
  // templates directory, even `../templates`) resolve in the pod exactly as they do locally.
  const relTemplates = relative(config.dir, config.templatesDir).split(sep).join('/');
  if (isAbsolute(relTemplates)) {
    throw new DigestError('E_CONFIG', `Templates directory ${config.templatesDir} is not reachable from ${config.dir}`, {
      hint: 'Keep the templates directory on the same drive as jobs.config.yaml',
    });
  }
  const ups = relTemplates.split('/').filter((s) => s === '..').length;
  const dirTail = config.dir.split(/[\\/]+/).filter(Boolean).slice(-ups);
  const configDirInMount = ups > 0 ? dirTail.join('/') : '';
  const templatesInMount = posix.normalize(posix.join(configDirInMount || '.', relTemplates || '.'));
  const configPathInMount = posix.join(configDirInMount || '.', configFileName);

  const usedKeys = new Set<string>();
  const data: Record<string, string> = {};
  const items: Array<{ key: string; path: string; mode?: number }> = [];
  const configKey = configMapKey(configFileName, usedKeys);
  data[configKey] = options.configText;
  items.push({ key: configKey, path: configPathInMount });
  for (const rel of Object.keys(options.templateFiles).sort()) {
    const clean = cleanRelPath(rel, 'Template');
    const path = posix.normalize(posix.join(templatesInMount, clean));
    const key = configMapKey(posix.join(relTemplates && !relTemplates.startsWith('..') ? relTemplates : 'templates', clean), usedKeys);
    data[key] = options.templateFiles[rel]!;
    items.push({ key, path });
  }
  const mountedSourceFiles: string[] = [];
  for (const file of [...(options.sourceFiles ?? [])].sort((a, b) => a.path.localeCompare(b.path))) {
    const clean = cleanRelPath(file.path, 'Source file');
    const path = posix.normalize(posix.join(configDirInMount || '.', clean));
    if (items.some((i) => i.path === path)) continue;
    const key = configMapKey(clean, usedKeys);
    data[key] = file.content;
    // 0755: a command source may run the script itself (`argv: [./report.sh]`).
    items.push(file.executable ? { key, path, mode: 0o755 } : { key, path });
    mountedSourceFiles.push(clean);
  }

  const extraEnv = referencedEnv(options.configText)
    .filter((v) => !(d.reservedEnv as readonly string[]).includes(v))
    .map((v) => ({ name: v, valueFrom: { secretKeyRef: { name: secretName, key: secretKeyForEnv(v), optional: true as const } } }));
  const cronCtx = { ...options, secretName, configPath: posix.join(d.mountPath, configPathInMount), items, extraEnv };
  const skipped: string[] = [];
  const cronJobs: object[] = [];
  const names = new Map<string, string>();
  const problems: DigestError[] = [];
  for (const job of config.jobs) {
    const conv = toCronJobSchedule(job.schedule);
    if (!conv.ok) {
      if ((options.unsupportedSchedules ?? 'error') === 'skip') {
        skipped.push(`# Job "${job.name}" is not included: ${conv.reason}. Run it with the daemon (daemon-deployment.yaml).`);
        continue;
      }
      problems.push(
        new DigestError('E_CONFIG', `Job "${job.name}" cannot be a Kubernetes CronJob: ${conv.reason}`, {
          location: { file: job.position?.file, line: job.position?.line, column: job.position?.column, path: `${job.position?.path ?? `jobs.${job.name}`}.schedule` },
          hint: 'Use a 5-field schedule (minute precision), or leave the job to the daemon (`k8s --skip-unsupported`, deploy/kubernetes/daemon-deployment.yaml)',
        }),
      );
      continue;
    }
    const name = cronJobName(job.name);
    const clash = names.get(name);
    if (clash !== undefined) {
      problems.push(new DigestError('E_CONFIG', `Jobs "${clash}" and "${job.name}" map to the same CronJob name ${name}`, { hint: 'Rename one of the jobs' }));
      continue;
    }
    names.set(name, job.name);
    cronJobs.push(cronJob(jobRun(job, conv.schedule), name, cronCtx));
  }
  // Button clicks by history polling: `events` drains the bot's event history once a minute.
  const intake = config.events?.mode;
  if (intake === 'poll') {
    const clash = names.get(d.eventsCronJobName);
    if (clash !== undefined) {
      problems.push(new DigestError('E_CONFIG', `Job "${clash}" maps to the CronJob name ${d.eventsCronJobName}, which drains the event history (events.mode: poll)`, { hint: 'Rename the job' }));
    } else cronJobs.push(cronJob(EVENTS_RUN, d.eventsCronJobName, cronCtx));
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) {
    throw new DigestError('E_CONFIG', `${problems.length} jobs cannot be rendered as CronJobs`, {
      details: problems,
      hint: 'Use 5-field schedules, or leave these jobs to the daemon Deployment',
    });
  }

  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: d.configMapName, namespace: options.namespace, labels: baseLabels('config') },
    data,
  };

  const header = [
    '# Generated by `pachca-digest k8s`. Regenerate after changing jobs.config.yaml or templates.',
    `# Needs a Secret "${secretName}" in namespace "${options.namespace}" with keys "${d.secretKeys.token}" (Pachca token)`,
    `# and "${d.secretKeys.state}" (postgres://… shared by all pods), e.g.:`,
    `#   kubectl -n ${options.namespace} create secret generic ${secretName} \\`,
    `#     --from-literal=${d.secretKeys.token}=… --from-literal=${d.secretKeys.state}=postgres://user:pass@host/db`,
    ...(mountedSourceFiles.length ? [`# Source files mounted next to the config: ${mountedSourceFiles.join(', ')}`] : []),
    ...(intake === 'poll' ? [`# Button clicks (events.mode: poll): ${d.eventsCronJobName} drains the bot's event history every minute.`] : []),
    ...(intake === 'webhook'
      ? ['# Button clicks (events.mode: webhook): a CronJob cannot receive webhooks; run the daemon (daemon-deployment.yaml)', '# with --http-port behind a Service that Pachca can reach at events.path, or use events.mode: poll.']
      : []),
    ...skipped,
  ].join('\n');
  const docs = [configMap, ...cronJobs].map((doc) => stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false }));
  return `${header}\n---\n${docs.join('---\n')}`;
}

/** A token or database password written into the config file would end up in a ConfigMap. */
function assertNoLiteralSecrets(config: LoadedConfig, text: string): void {
  const found: string[] = [];
  const token = config.pachca.token;
  if (token && token.length >= 4 && text.includes(token)) found.push('the Pachca token');
  const m = /^postgres(?:ql)?:\/\/[^:/@]+:([^@]+)@/.exec(config.state.url);
  if (m && m[1] && m[1].length >= 4 && (text.includes(m[1]) || text.includes(decodeURIComponentSafe(m[1])))) found.push('the database password');
  if (found.length > 0) {
    throw new DigestError('E_CONFIG', `${config.file} contains ${found.join(' and ')}; it would be stored in a ConfigMap`, {
      location: { file: config.file },
      hint: 'Write ${PACHCA_TOKEN} / ${PACHCA_DIGEST_STATE} in the config and put the values in the Secret',
    });
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
