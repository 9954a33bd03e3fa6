/**
 * `k8s` on the shipped jobs.config.yaml, through the built CLI: the manifests are checked as
 * parsed YAML, and the committed deploy/kubernetes/cronjobs.yaml must be exactly this output.
 *
 * Regenerate the committed file after changing jobs.config.yaml, templates/ or the generator:
 *   npm run build && PACHCA_DIGEST_UPDATE_GENERATED=1 npx vitest run test/e2e-ops/k8s.test.ts
 * (the same as: node dist/bin/pachca-digest.js k8s --namespace pachca-digest \
 *   --image ghcr.io/pachca-digest/pachca-digest:0.1.0 > deploy/kubernetes/cronjobs.yaml)
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT, runCli, type CliResult } from '../helpers/project.js';

const ARGS = ['k8s', '--namespace', 'pachca-digest', '--image', 'ghcr.io/pachca-digest/pachca-digest:0.1.0'];
const COMMITTED = 'deploy/kubernetes/cronjobs.yaml';
const DAEMON = 'deploy/kubernetes/daemon-deployment.yaml';
const HOW = 'stale: regenerate with `npm run build && PACHCA_DIGEST_UPDATE_GENERATED=1 npx vitest run test/e2e-ops/k8s.test.ts`';

const shipped = parse(readFileSync(join(ROOT, 'jobs.config.yaml'), 'utf8')) as {
  defaults: { timezone: string };
  events?: { mode?: string };
  jobs: Array<{ name: string; schedule: string; enabled?: boolean; timezone?: string; source: Record<string, any> }>;
};

function templatesOnDisk(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.hbs')) out[relative(join(ROOT, 'templates'), full).split(sep).join('/')] = readFileSync(full, 'utf8');
    }
  };
  walk(join(ROOT, 'templates'));
  return out;
}

const docsOf = (text: string) =>
  parseAllDocuments(text).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as any;
  }).filter(Boolean);

describe('k8s from the shipped jobs.config.yaml', () => {
  let r: CliResult;
  let docs: any[];
  let configMap: any;
  let cronJobs: any[];

  beforeAll(async () => {
    // A token in the environment must change nothing: manifests reference the Secret only.
    r = await runCli(ARGS, { cwd: ROOT, env: { PACHCA_TOKEN: 'pd-k8s-env-token-Rt55' }, timeoutMs: 15_000 });
    docs = docsOf(r.stdout);
    configMap = docs.find((d) => d.kind === 'ConfigMap');
    cronJobs = docs.filter((d) => d.kind === 'CronJob');
  });

  it('exits 0 with a ConfigMap, one CronJob per job (disabled ones suspended) and one draining the button clicks', () => {
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('pd-k8s-env-token-Rt55');
    // The shipped config takes clicks by history polling (its «🔄 Обновить» button): `events` every minute, last.
    expect(shipped.events?.mode).toBe('poll');
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', ...shipped.jobs.map(() => 'CronJob'), 'CronJob']);
    expect(cronJobs.map((c) => c.metadata.annotations['pachca-digest/job-name'])).toEqual([...shipped.jobs.map((j) => j.name), undefined]);
    const events = cronJobs.at(-1);
    expect(events.metadata.name).toBe('pachca-digest-events');
    expect(events.spec).toMatchObject({ schedule: '* * * * *', concurrencyPolicy: 'Forbid', suspend: false });
    expect(events.spec.jobTemplate.spec.template.spec.containers[0].args).toEqual(['events']);
    expect(shipped.jobs.some((j) => j.enabled === false)).toBe(true);
    for (const [i, job] of shipped.jobs.entries()) {
      const cj = cronJobs[i];
      expect(cj.apiVersion).toBe('batch/v1');
      expect(cj.metadata).toMatchObject({ name: `pachca-digest-${job.name}`, namespace: 'pachca-digest' });
      expect(cj.spec, job.name).toMatchObject({
        schedule: job.schedule,
        timeZone: job.timezone ?? shipped.defaults.timezone,
        concurrencyPolicy: 'Forbid',
        // defaults.starting_deadline: 2h
        startingDeadlineSeconds: 7200,
        suspend: job.enabled === false,
      });
      expect(cj.spec.jobTemplate.spec.backoffLimit, job.name).toBe(0);
    }
  });

  it('each pod runs `run-job <name>` with the image entrypoint and the token from the Secret', () => {
    for (const [i, job] of shipped.jobs.entries()) {
      const pod = cronJobs[i].spec.jobTemplate.spec.template.spec;
      expect(pod.restartPolicy).toBe('Never');
      const [c] = pod.containers;
      expect(c.image).toBe('ghcr.io/pachca-digest/pachca-digest:0.1.0');
      const entry = JSON.parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8').match(/^ENTRYPOINT (.*)$/m)![1]!);
      expect(c.command).toEqual(entry);
      expect(c.args).toEqual(['run-job', job.name]);
      const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
      expect(env.PACHCA_TOKEN).toEqual({ name: 'PACHCA_TOKEN', valueFrom: { secretKeyRef: { name: 'pachca-digest', key: 'token' } } });
      expect(env.PACHCA_DIGEST_STATE.valueFrom.secretKeyRef).toEqual({ name: 'pachca-digest', key: 'state-url' });
      expect(env.PACHCA_DIGEST_CONFIG.value).toBe('/etc/pachca-digest/jobs.config.yaml');
      // Every ${VAR} of the config other than the reserved ones comes from the same Secret.
      for (const v of ['INCIDENTS_API_TOKEN', 'PROMETHEUS_URL', 'ORDERS_DATABASE_URL']) {
        expect(env[v]?.valueFrom?.secretKeyRef, v).toMatchObject({ name: 'pachca-digest', optional: true });
      }
      expect(c.env.filter((e: any) => 'value' in e && e.name !== 'PACHCA_DIGEST_CONFIG')).toEqual([]);
    }
  });

  it('the ConfigMap holds the config as written and every template (layouts too), mounted at their paths', () => {
    const templates = templatesOnDisk();
    expect(Object.keys(templates)).toContain('layouts/company.hbs');
    const items = cronJobs[0].spec.jobTemplate.spec.template.spec.volumes.find((v: any) => v.name === 'config').configMap;
    expect(items.name).toBe(configMap.metadata.name);
    const byPath = Object.fromEntries(items.items.map((i: any) => [i.path, configMap.data[i.key]]));
    expect(byPath['jobs.config.yaml']).toBe(readFileSync(join(ROOT, 'jobs.config.yaml'), 'utf8'));
    for (const [rel, content] of Object.entries(templates)) expect(byPath[`templates/${rel}`], rel).toBe(content);
    // Every ConfigMap key is mounted, and every CronJob mounts the same items.
    expect(items.items.map((i: any) => i.key).sort()).toEqual(Object.keys(configMap.data).sort());
    for (const cj of cronJobs) expect(cj.spec.jobTemplate.spec.template.spec.volumes.find((v: any) => v.name === 'config').configMap).toEqual(items);
  });

  it('files the sources read next to the config (the CSV, the script) are mounted too', () => {
    const items = cronJobs[0].spec.jobTemplate.spec.template.spec.volumes.find((v: any) => v.name === 'config').configMap.items;
    const byPath = Object.fromEntries(items.map((i: any) => [i.path, configMap.data[i.key]]));
    const csv = shipped.jobs.find((j) => j.source.type === 'file')!.source.path as string;
    expect(byPath[csv]).toBe(readFileSync(join(ROOT, csv), 'utf8'));
    const script = (shipped.jobs.find((j) => j.source.type === 'command')!.source.argv as string[])[1]!;
    expect(byPath[script]).toBe(readFileSync(join(ROOT, script), 'utf8'));
  });

  it(`${COMMITTED} is exactly this output`, () => {
    const file = join(ROOT, COMMITTED);
    if (process.env.PACHCA_DIGEST_UPDATE_GENERATED === '1' && r.code === 0) writeFileSync(file, r.stdout);
    expect(existsSync(file), `${COMMITTED} is missing: ${HOW}`).toBe(true);
    expect(readFileSync(file, 'utf8'), `${COMMITTED} is ${HOW}`).toBe(r.stdout);
  });

  it(`${DAEMON} mounts the same items and passes the same Secret env as the CronJobs`, () => {
    const dep = docsOf(readFileSync(join(ROOT, DAEMON), 'utf8')).find((d) => d.kind === 'Deployment');
    const pod = dep.spec.template.spec;
    const cjPod = cronJobs[0].spec.jobTemplate.spec.template.spec;
    expect(pod.volumes.find((v: any) => v.configMap).configMap).toEqual(cjPod.volumes.find((v: any) => v.configMap).configMap);
    const secretEnv = (c: any) => c.env.filter((e: any) => e.valueFrom?.secretKeyRef);
    expect(secretEnv(pod.containers[0])).toEqual(secretEnv(cjPod.containers[0]));
    expect(pod.containers[0].image).toBe(cjPod.containers[0].image);
    expect(dep.metadata.namespace).toBe(cronJobs[0].metadata.namespace);
  });
});

describe('k8s: which source files are mounted', () => {
  it('relative files inside the config directory only; a command source\'s own script is executable', async () => {
    const { makeProject } = await import('../helpers/project.js');
    const project = makeProject({
      'app/jobs.config.yaml': `
version: 1
pachca: { token: "\${PACHCA_TOKEN:-}" }
jobs:
  - name: report
    schedule: "0 9 * * *"
    sources:
      sh: { type: command, argv: [./bin/report.sh, "{{period.startIso}}"] }
      csv: { type: file, path: data/rows.csv }
      outside: { type: file, path: ../outside.csv, optional: true }
      absolute: { type: file, path: /etc/hostname, optional: true }
      missing: { type: file, path: data/not-there.csv, optional: true }
    template: r.hbs
    target: { chat_id: 101 }
`,
      'app/templates/r.hbs': 'r\n',
      'app/bin/report.sh': '#!/bin/sh\necho "{}"\n',
      'app/data/rows.csv': 'a,b\n1,2\n',
      'outside.csv': 'x\n1\n',
    });
    try {
      const r = await runCli(ARGS, { cwd: project.path('app'), timeoutMs: 15_000 });
      expect(r.code, r.stderr).toBe(0);
      const docs = docsOf(r.stdout);
      const items = docs[1].spec.jobTemplate.spec.template.spec.volumes.find((v: any) => v.name === 'config').configMap.items;
      expect(items.filter((i: any) => !i.path.endsWith('.hbs') && i.path !== 'jobs.config.yaml')).toEqual([
        { key: 'bin__report.sh', path: 'bin/report.sh', mode: 0o755 },
        { key: 'data__rows.csv', path: 'data/rows.csv' },
      ]);
      expect(docs[0].data['data__rows.csv']).toBe('a,b\n1,2\n');
      expect(r.stdout).toMatch(/^# Source files mounted next to the config: bin\/report\.sh, data\/rows\.csv$/m);
    } finally {
      project.cleanup();
    }
  });
});
