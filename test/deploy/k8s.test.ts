import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { JobConfig, LoadedConfig } from '../../src/config/types.js';
import { CLIENT_DEFAULTS } from '../../src/pachca/defaults.js';
import type { CompiledTemplate } from '../../src/render/types.js';
import { DigestError } from '../../src/errors.js';
import { cronJobName, referencedEnv, renderK8sManifests, toCronJobSchedule, K8S_DEFAULTS } from '../../src/deploy/index.js';

const template = (file: string): CompiledTemplate => ({ file, source: 'x', render: () => 'x', localeProblems: () => [] });

function job(over: Partial<JobConfig> & { name: string }): JobConfig {
  return {
    schedule: '0 9 * * 1-5',
    timezone: 'Europe/Moscow',
    locale: 'ru-RU',
    enabled: true,
    sources: [],
    namedSources: false,
    template: template(`/srv/digest/templates/${over.name}.hbs`),
    templateFile: `/srv/digest/templates/${over.name}.hbs`,
    targets: [],
    onEmpty: 'skip',
    period: 'slot',
    catchUp: 'latest',
    startingDeadlineMs: 7_200_000,
    concurrency: 'forbid',
    timeoutMs: 600_000,
    retries: { count: 0, backoffMs: 60_000 },
    delivery: 'new',
    splitToThread: false,
    position: { file: '/srv/digest/jobs.config.yaml', line: 10, column: 5, path: `jobs[0]` },
    ...over,
  };
}

function config(jobs: JobConfig[], over: Partial<LoadedConfig> = {}): LoadedConfig {
  return {
    file: '/srv/digest/jobs.config.yaml',
    dir: '/srv/digest',
    templatesDir: '/srv/digest/templates',
    version: 1,
    pachca: {
      token: 'real-token-value-123',
      baseUrl: CLIENT_DEFAULTS.baseUrl,
      baseUrlExplicit: false,
      rateLimits: CLIENT_DEFAULTS.rateLimits,
      retry: CLIENT_DEFAULTS.retry,
      timeouts: CLIENT_DEFAULTS.timeouts,
      maxMessageBytes: CLIENT_DEFAULTS.maxMessageBytes,
    },
    state: { url: 'postgres://digest:db-pass-456@pg/digest', leaseMs: 60_000, shutdownGraceMs: 25_000, retention: { runs: 100, days: 30 } },
    jobs,
    warnings: [],
    ...over,
  };
}

const CONFIG_TEXT = `version: 1
pachca:
  token: \${PACHCA_TOKEN}
jobs:
  - name: daily-sales
    schedule: "0 9 * * 1-5"
    source:
      type: postgres
      url: \${SALES_DB_URL}
    # \${COMMENTED_OUT} is not used
    template: daily-sales.hbs
`;

const TEMPLATES = {
  'daily-sales.hbs': '**Продажи** за {{period.start}}: {{metrics.total}}\n',
  'team/weekly.hbs': 'Неделя: {{metrics.count}}\n',
};

function render(cfg: LoadedConfig, extra: Partial<Parameters<typeof renderK8sManifests>[1]> = {}) {
  const text = renderK8sManifests(cfg, { image: 'ghcr.io/acme/pachca-digest:1.2.0', namespace: 'digests', configText: CONFIG_TEXT, templateFiles: TEMPLATES, ...extra });
  const docs = parseAllDocuments(text).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as any;
  });
  return { text, docs: docs.filter((d) => d !== null) };
}

describe('renderK8sManifests', () => {
  const jobs = [
    job({ name: 'daily-sales' }),
    job({ name: 'weekly', schedule: '30 18 * * FRI', timezone: 'Asia/Yekaterinburg', concurrency: 'replace', enabled: false, startingDeadlineMs: 3_000 }),
    job({ name: 'hourly', schedule: '0 0 * * * *', concurrency: 'allow', startingDeadlineMs: 0 }),
  ];

  it('emits a ConfigMap and one CronJob per job with schedule, zone, policy, deadline and suspend', () => {
    const { docs } = render(config(jobs));
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'CronJob', 'CronJob', 'CronJob']);
    const [daily, weekly, hourly] = docs.slice(1);
    expect(daily.apiVersion).toBe('batch/v1');
    expect(daily.metadata).toMatchObject({ name: 'pachca-digest-daily-sales', namespace: 'digests' });
    expect(daily.metadata.annotations['pachca-digest/job-name']).toBe('daily-sales');
    expect(daily.spec).toMatchObject({
      schedule: '0 9 * * 1-5',
      timeZone: 'Europe/Moscow',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 7200,
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
    });
    expect(daily.spec.jobTemplate.spec.backoffLimit).toBe(0);

    expect(weekly.spec).toMatchObject({ schedule: '30 18 * * FRI', timeZone: 'Asia/Yekaterinburg', concurrencyPolicy: 'Replace', suspend: true });
    // Below the controller's ~10 s resolution a deadline would skip runs.
    expect(weekly.spec.startingDeadlineSeconds).toBe(10);
    // Seconds field "0" is the same schedule at minute precision.
    expect(hourly.spec).toMatchObject({ schedule: '0 * * * *', concurrencyPolicy: 'Allow' });
    expect(hourly.spec.startingDeadlineSeconds).toBeUndefined();
  });

  it('writes plain YAML without anchors or aliases (easier to read and diff)', () => {
    const { text } = render(config(jobs));
    expect(text).not.toMatch(/[&*]a\d+\b/);
  });

  it('runs `run-job <name>` with the Dockerfile entrypoint, the Secret env and the mounted config', () => {
    const { docs } = render(config(jobs));
    const pod = docs[1].spec.jobTemplate.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    const [c] = pod.containers;
    expect(c.image).toBe('ghcr.io/acme/pachca-digest:1.2.0');
    expect(c.command).toEqual(['node', '/app/dist/bin/pachca-digest.js']);
    expect(c.args).toEqual(['run-job', 'daily-sales']);
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
    expect(env.PACHCA_TOKEN.valueFrom.secretKeyRef).toEqual({ name: 'pachca-digest', key: 'token' });
    expect(env.PACHCA_DIGEST_STATE.valueFrom.secretKeyRef).toEqual({ name: 'pachca-digest', key: 'state-url' });
    expect(env.PACHCA_DIGEST_CONFIG.value).toBe('/etc/pachca-digest/jobs.config.yaml');
    // Other ${VAR}s of the config come from the same Secret, optional; commented ones are ignored.
    expect(env.SALES_DB_URL.valueFrom.secretKeyRef).toEqual({ name: 'pachca-digest', key: 'sales-db-url', optional: true });
    expect(env.COMMENTED_OUT).toBeUndefined();
    expect(c.resources.requests).toEqual(K8S_DEFAULTS.resources.requests);
    expect(c.resources.limits.memory).toBe('256Mi');
    expect(c.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/pachca-digest', readOnly: true });
    // No secret value ever lands in a manifest.
    const { text } = render(config(jobs));
    expect(text).not.toContain('real-token-value-123');
    expect(text).not.toContain('db-pass-456');
  });

  it('puts the config and every template in the ConfigMap with valid keys, mounted through items', () => {
    const { docs } = render(config(jobs));
    const cm = docs[0];
    expect(cm.metadata).toMatchObject({ name: 'pachca-digest-config', namespace: 'digests' });
    for (const key of Object.keys(cm.data)) expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);
    const vol = docs[1].spec.jobTemplate.spec.template.spec.volumes.find((v: any) => v.name === 'config');
    expect(vol.configMap.name).toBe('pachca-digest-config');
    const byPath = Object.fromEntries(vol.configMap.items.map((i: any) => [i.path, cm.data[i.key]]));
    expect(byPath).toEqual({
      'jobs.config.yaml': CONFIG_TEXT,
      'templates/daily-sales.hbs': TEMPLATES['daily-sales.hbs'],
      'templates/team/weekly.hbs': TEMPLATES['team/weekly.hbs'],
    });
  });

  it('mirrors a templates directory outside the config directory', () => {
    const cfg = config([job({ name: 'a' })], { dir: '/srv/app/config', file: '/srv/app/config/jobs.config.yaml', templatesDir: '/srv/app/templates' });
    const { docs } = render(cfg);
    const pod = docs[1].spec.jobTemplate.spec.template.spec;
    const paths = pod.volumes[0].configMap.items.map((i: any) => i.path);
    expect(paths).toEqual(['config/jobs.config.yaml', 'templates/daily-sales.hbs', 'templates/team/weekly.hbs']);
    expect(pod.containers[0].env.find((e: any) => e.name === 'PACHCA_DIGEST_CONFIG').value).toBe('/etc/pachca-digest/config/jobs.config.yaml');
  });

  it('refuses sub-minute schedules by default, listing every job with its location', () => {
    const cfg = config([job({ name: 'fast', schedule: '*/30 * * * * *' }), job({ name: 'faster', schedule: '15 * * * * *' }), job({ name: 'ok' })]);
    try {
      render(cfg);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DigestError);
      const err = e as DigestError;
      expect(err.code).toBe('E_CONFIG');
      expect(err.details.map((d) => d.message).join('\n')).toMatch(/"fast".*\n.*"faster"/);
      expect(err.details[0]!.location?.path).toBe('jobs[0].schedule');
      expect(err.hint).toContain('daemon');
    }
  });

  it('with unsupportedSchedules: skip, leaves such jobs out with a comment', () => {
    const cfg = config([job({ name: 'fast', schedule: '*/30 * * * * *' }), job({ name: 'ok' })]);
    const { text, docs } = render(cfg, { unsupportedSchedules: 'skip' });
    expect(docs.filter((d) => d.kind === 'CronJob').map((d) => d.metadata.name)).toEqual(['pachca-digest-ok']);
    expect(text).toMatch(/^# Job "fast" is not included: .*seconds.*daemon/m);
  });

  it('refuses a config file with the literal token or database password', () => {
    expect(() => render(config(jobs), { configText: 'pachca:\n  token: real-token-value-123\n' })).toThrow(/Pachca token/);
    expect(() => render(config(jobs), { configText: 'state: postgres://digest:db-pass-456@pg/digest\n' })).toThrow(/database password/);
  });

  it('rejects template paths escaping the directory, a bad namespace and a missing image', () => {
    expect(() => render(config(jobs), { templateFiles: { '../secret.hbs': 'x' } })).toThrow(DigestError);
    expect(() => render(config(jobs), { namespace: 'Bad_NS' })).toThrow(/namespace/);
    expect(() => render(config(jobs), { image: '' })).toThrow(/image/);
  });

  it('applies custom resources, history limits and secret name', () => {
    const { docs } = render(config([job({ name: 'a' })]), {
      resources: { limits: { memory: '512Mi' } },
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 5,
      secretName: 'digest-secrets',
    });
    const cj = docs[1];
    expect(cj.spec.successfulJobsHistoryLimit).toBe(1);
    expect(cj.spec.failedJobsHistoryLimit).toBe(5);
    const c = cj.spec.jobTemplate.spec.template.spec.containers[0];
    expect(c.resources.limits).toEqual({ cpu: '1', memory: '512Mi' });
    expect(c.env[0].valueFrom.secretKeyRef.name).toBe('digest-secrets');
  });

  it('events.mode poll: a CronJob runs `events` every minute, in the same pod as the jobs; webhook: a comment points to the daemon', () => {
    const poll: LoadedConfig['events'] = { mode: 'poll', pollIntervalMs: 5_000, path: '/pachca/webhook', maxAgeMs: 60_000 };
    const { text, docs } = render(config([job({ name: 'daily-sales' })], { events: poll }));
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'CronJob', 'CronJob']);
    const [daily, events] = docs.slice(1);
    expect(events.metadata).toMatchObject({ name: 'pachca-digest-events', namespace: 'digests', annotations: { 'pachca-digest/role': 'events' } });
    expect(events.spec).toMatchObject({ schedule: '* * * * *', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 60, suspend: false });
    const pod = (cj: any) => cj.spec.jobTemplate.spec.template.spec;
    expect(pod(events).containers[0].args).toEqual(['events']);
    // The same image, Secret, config and mounts as a job's pod: only what it runs differs.
    expect({ ...pod(events).containers[0], args: null }).toEqual({ ...pod(daily).containers[0], args: null });
    expect(pod(events).volumes).toEqual(pod(daily).volumes);
    expect(text).toMatch(/^# Button clicks \(events.mode: poll\): pachca-digest-events drains/m);

    const hooked = render(config([job({ name: 'daily-sales' })], { events: { ...poll, mode: 'webhook', signingSecret: 's' } }));
    expect(hooked.docs.map((d) => d.kind)).toEqual(['ConfigMap', 'CronJob']);
    expect(hooked.text).toMatch(/^# Button clicks \(events.mode: webhook\): a CronJob cannot receive webhooks; run the daemon/m);
    expect(render(config([job({ name: 'daily-sales' })])).docs.map((d) => d.kind)).toEqual(['ConfigMap', 'CronJob']);
    // A job whose CronJob would have the events CronJob's name.
    expect(() => render(config([job({ name: 'events' })], { events: poll }))).toThrow(/pachca-digest-events, which drains the event history/);
  });

  it('two job names that map to the same CronJob name are an error', () => {
    expect(cronJobName('Sales Daily')).not.toBe(cronJobName('sales-daily'));
    expect(() => render(config([job({ name: 'same' }), job({ name: 'same' })]))).toThrow(/same CronJob name/);
  });
});

describe('helpers', () => {
  it('toCronJobSchedule', () => {
    expect(toCronJobSchedule('0 9 * * 1-5')).toEqual({ ok: true, schedule: '0 9 * * 1-5' });
    expect(toCronJobSchedule('  0   30 9 * * MON ')).toEqual({ ok: true, schedule: '30 9 * * MON' });
    expect(toCronJobSchedule('@Daily')).toEqual({ ok: true, schedule: '@daily' });
    expect(toCronJobSchedule('*/10 * * * * *').ok).toBe(false);
    expect(toCronJobSchedule('@reboot').ok).toBe(false);
  });

  it('cronJobName: valid DNS-1123, at most 52 characters, stable', () => {
    for (const name of ['daily-sales', 'Sales_Report', 'отчёт', 'x'.repeat(80), '--weird--']) {
      const n = cronJobName(name);
      expect(n, name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(n.length, name).toBeLessThanOrEqual(52);
      expect(cronJobName(name)).toBe(n);
    }
    expect(cronJobName('daily-sales')).toBe('pachca-digest-daily-sales');
  });

  it('referencedEnv ignores $${escaped} and comments', () => {
    expect(referencedEnv('a: ${A}\nb: $${NOT}\n# ${C}\nd: "${D:-x} ${A}"\n')).toEqual(['A', 'D']);
  });
});
