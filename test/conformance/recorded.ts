/**
 * The conformance check of every integration test: the exchanges every sandbox of the run
 * recorded (src/sandbox/exchange-recorder.ts; in-process and in spawned CLIs alike) validated
 * against the spec, our client's only (user agent pachca-digest: raw requests a test makes on
 * purpose to probe the sandbox are not ours). Faulted answers follow the `injected-faults` quirk.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordedExchange } from '../../src/sandbox/exchange-recorder.js';
import { API_BASE_PATH, STORAGE_BASE_PATH } from '../../src/sandbox/index.js';
import { OpenApiConformance } from './openapi.js';
import type { QuirkId } from './spec-quirks.js';

export const CLIENT_USER_AGENT_PREFIX = 'pachca-digest';
const DIRECT_UPLOAD = '/direct_url';

export interface Violation {
  /** The test it happened in (`file > test name`; the file alone for hooks). */
  label: string;
  /** `POST /messages/42?x=1 → 201` */
  exchange: string;
  problems: string[];
}

export interface ConformanceReport {
  /** Our client's exchanges looked at, and how many requests and answers of them were validated. */
  exchanges: number;
  requests: number;
  responses: number;
  /** Answers not validated, by the quirk that says why. */
  skipped: Partial<Record<QuirkId, number>>;
  /** Exchanges of anyone else (raw probes, browsers): not ours, not checked. */
  notOurs: number;
  /** Test files (labels' file parts) whose exchanges were checked. */
  files: number;
  violations: Violation[];
}

let shared: OpenApiConformance | undefined;
/** The spec compiled once per process (Ajv compiles each schema on first use and keeps it). */
export function sharedConformance(): OpenApiConformance {
  return (shared ??= new OpenApiConformance());
}

/** Every recorded exchange under `dir` (one JSON line each, files of any process). */
export function readRecorded(dir: string): RecordedExchange[] {
  if (!existsSync(dir)) return [];
  const out: RecordedExchange[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      // A process killed mid-write leaves at most a torn last line: not an exchange.
      if (line.trim() === '') continue;
      try {
        out.push(JSON.parse(line) as RecordedExchange);
      } catch {
        /* torn line */
      }
    }
  }
  return out;
}

export function checkRecorded(list: RecordedExchange[], oas = sharedConformance()): ConformanceReport {
  const report: ConformanceReport = { exchanges: 0, requests: 0, responses: 0, skipped: {}, notOurs: 0, files: 0, violations: [] };
  const skip = (q: QuirkId) => (report.skipped[q] = (report.skipped[q] ?? 0) + 1);
  const files = new Set<string>();
  for (const x of list) {
    if (!(x.request.userAgent ?? '').startsWith(CLIENT_USER_AGENT_PREFIX)) {
      report.notOurs++;
      continue;
    }
    report.exchanges++;
    const label = x.label ?? `(no test label; pid ${x.pid})`;
    files.add(label.split(' > ')[0]!);
    const problems: string[] = [];
    const upload = x.base === STORAGE_BASE_PATH;
    const template = upload ? DIRECT_UPLOAD : x.template;
    if (template === null || (x.base !== API_BASE_PATH && !upload)) {
      problems.push(`the sandbox has no route for ${x.method} ${x.base}${x.path} (answered ${x.response?.status ?? 'nothing'})`);
    } else {
      report.requests++;
      // The direct upload URL as the spec's POST /direct_url: the `direct-upload-url` quirk.
      problems.push(...(upload ? oas.checkMultipartRequest(template, x) : oas.checkRequest({ ...x, template })));
      const r = x.response;
      if (r === null) skip('injected-faults');
      else if (x.fault === 'status' && !oas.documentsStatus(x.method, template, r.status)) skip('injected-faults');
      else {
        report.responses++;
        problems.push(...oas.checkResponse({ method: x.method, template, response: { ...r, headers: {} } }));
      }
    }
    if (problems.length > 0) {
      const fault = x.fault ? ` [fault: ${x.fault}${x.faultWhen ? ` ${x.faultWhen}` : ''}]` : '';
      report.violations.push({ label, exchange: `${x.method} ${x.path}${x.query} → ${x.response?.status ?? 'no answer'}${fault}`, problems });
    }
  }
  report.files = files.size;
  return report;
}

/** The report as the test run prints it: each violation with its test, exchange and schema errors. */
export function formatReport(r: ConformanceReport): string {
  const skipped = Object.entries(r.skipped).map(([q, n]) => `${n} ${q}`).join(', ') || 'none';
  const head =
    `OpenAPI conformance of every integration test: ${r.exchanges} exchanges of our client from ${r.files} test files, ` +
    `${r.requests} requests and ${r.responses} answers validated against pachca-openapi.en.yaml ` +
    `(answers not validated: ${skipped}; ${r.notOurs} exchanges of raw probes and browsers not ours).`;
  if (r.violations.length === 0) return head;
  const byLabel = new Map<string, Violation[]>();
  for (const v of r.violations) byLabel.set(v.label, [...(byLabel.get(v.label) ?? []), v]);
  const lines = [`${head}\n${r.violations.length} exchanges violate the spec (fix the sandbox or the client, or list a genuine quirk in test/conformance/spec-quirks.ts):`];
  for (const [label, vs] of byLabel) {
    lines.push(`\n  ${label}`);
    for (const v of vs.slice(0, 20)) {
      lines.push(`    ${v.exchange}`, ...v.problems.slice(0, 12).map((p) => `      ${p}`));
      if (v.problems.length > 12) lines.push(`      … and ${v.problems.length - 12} more`);
    }
    if (vs.length > 20) lines.push(`    … and ${vs.length - 20} more in this test`);
  }
  return lines.join('\n');
}
