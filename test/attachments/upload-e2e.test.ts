/**
 * Attachments end to end: the built CLI renders a chart, a `.md` table card, CSV and XLSX, uploads
 * them through the sandbox's documented flow (POST /uploads → direct_url, file last, no token) and
 * posts one message carrying all of them. Faults on the upload path must never produce a message
 * with files missing; `delivery: update` replaces the files of the previous run's message.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { openStateStore } from '../../src/state/index.js';
import { makeProject, runCli, type Project } from '../helpers/project.js';

const TOKEN = 'attachments-token';
const SLOT1 = '2026-11-24T09:00:00+03:00';
const SLOT2 = '2026-11-25T09:00:00+03:00';

function config(extra = ''): string {
  return `
version: 1
state: { url: sqlite:state/ledger.db }
pachca:
  retry: { retries: 2, base_delay: 50ms, max_delay: 200ms }
jobs:
  - name: sales
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    ${extra}
    source: { type: static, data: { rows: [
      { date: "2026-11-20", region: "Москва", revenue: 1200000, plan: 1100000 },
      { date: "2026-11-21", region: "Казань", revenue: 800000, plan: 900000 },
      { date: "2026-11-22", region: "Санкт-Петербург", revenue: 950000, plan: 1000000 } ] } }
    template: sales.hbs
    target: { chat_id: 101 }
    attachments:
      - chart: { type: line, data: metrics.rows, x: date, y: [revenue, plan], labels: { revenue: Факт, plan: План }, title: "Выручка, ₽", format: currency, name: revenue.png }
      - table: { rows: metrics.rows, columns: "region:Регион,revenue:Выручка", name: "регионы.md", title: Регионы }
      - csv: { rows: metrics.rows, name: "sales-{{date period.start \\"yyyy-MM-dd\\"}}.csv" }
      - xlsx: { rows: metrics.rows, name: sales.xlsx, sheet: Продажи }
`;
}

const TEMPLATES = { 'sales.hbs': 'Продажи за день.\n{{attachments_note}}\n' };

describe('attachments through the upload flow', () => {
  let sandbox: Sandbox;
  const projects: Project[] = [];
  beforeAll(async () => {
    // Upload parameters live 1 s here, so a delayed answer can really expire them.
    sandbox = await startSandbox({ tokens: [TOKEN], uploads: { ttlMs: 1000 } });
  });
  afterAll(async () => sandbox.close());
  afterEach(() => {
    for (const p of projects.splice(0)) p.cleanup();
    sandbox.reset();
  });

  const project = (cfg: string) => {
    const p = makeProject({ 'jobs.config.yaml': cfg, ...Object.fromEntries(Object.entries(TEMPLATES).map(([k, v]) => [`templates/${k}`, v])) });
    projects.push(p);
    return p;
  };
  const run = (p: Project, slot = SLOT1) =>
    runCli(['run-job', 'sales', '--slot', slot], { cwd: p.dir, env: { PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sandbox.baseUrl }, timeoutMs: 60_000 });
  const storage = () => sandbox.requests().filter((r) => r.path.startsWith('/__storage'));
  const uploadsCalls = () => sandbox.requests().filter((r) => r.endpoint === 'POST /uploads');

  it('posts one message with a PNG chart (image + size), the .md card, CSV and XLSX; the ledger records the files', async () => {
    const p = project(config());
    const r = await run(p);
    expect(r.code, r.stderr).toBe(0);
    const [msg] = sandbox.store.messages(101);
    expect(msg).toBeDefined();
    expect(msg!.content).toContain('📎 Во вложении: график «Выручка, ₽», таблица «Регионы», CSV sales-2026-11-23.csv, Excel sales.xlsx');
    expect(msg!.files.map((f) => [f.name, f.file_type])).toEqual([
      ['revenue.png', 'image'],
      ['регионы.md', 'file'],
      ['sales-2026-11-23.csv', 'file'],
      ['sales.xlsx', 'file'],
    ]);
    const chart = msg!.files[0]!;
    expect([chart.width, chart.height]).toEqual([800, 450]);
    // Every file went through the documented flow, one POST /uploads each, and is stored.
    expect(uploadsCalls()).toHaveLength(4);
    expect(storage().map((s) => s.status)).toEqual([204, 204, 204, 204]);
    const png = sandbox.uploads.get(chart.key)!;
    expect(png.bytes.length).toBe(chart.size);
    const img = PNG.sync.read(png.bytes);
    expect([img.width, img.height]).toEqual([800, 450]);
    const md = sandbox.uploads.get(msg!.files[1]!.key)!.bytes.toString('utf8');
    expect(md).toContain('| Регион | Выручка |');
    expect(md).toContain('| Москва | 1\u00a0200\u00a0000 |');
    const csv = sandbox.uploads.get(msg!.files[2]!.key)!.bytes;
    expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(csv.toString('utf8').slice(1).split('\r\n')[0]).toBe('date,region,revenue,plan');
    const xlsx = sandbox.uploads.get(msg!.files[3]!.key)!.bytes;
    expect(xlsx.subarray(0, 2).toString()).toBe('PK');
    // GET /messages/{id} returns the files with urls that serve the stored bytes.
    const got = (await (await fetch(`${sandbox.baseUrl}/messages/${msg!.id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { data: { files: Array<{ url: string; name: string }> } };
    const served = await fetch(got.data.files[0]!.url);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(png.bytes)).toBe(true);

    const ledger = await openStateStore('sqlite:state/ledger.db', { baseDir: p.dir });
    try {
      const rec = await ledger.getRun('sales', new Date(SLOT1));
      expect(rec?.deliveries[0]?.files?.map((f) => f.key)).toEqual(msg!.files.map((f) => f.key));
    } finally {
      await ledger.close();
    }
  });

  it('an expired signature: new parameters are asked for and the message still carries every file', async () => {
    const p = project(config());
    // The first parameters arrive 1.5 s late: the sandbox issued them with a 1 s lifetime.
    sandbox.faults.add({ kind: 'delay', ms: 1500, when: 'after', method: 'POST', path: '/uploads', times: 1 });
    const r = await run(p);
    expect(r.code, r.stderr).toBe(0);
    expect(storage()[0]).toMatchObject({ status: 403 });
    expect(uploadsCalls()).toHaveLength(5);
    const [msg] = sandbox.store.messages(101);
    expect(msg!.files).toHaveLength(4);
    for (const f of msg!.files) expect(sandbox.uploads.has(f.key)).toBe(true);
  });

  it('a 5xx from the storage is retried; storage down for good fails the run and posts nothing', async () => {
    let p = project(config());
    sandbox.faults.add({ kind: 'status', status: 503, body: '<Error><Code>SlowDown</Code></Error>', method: 'POST', path: '/__storage', times: 1 });
    const ok = await run(p);
    expect(ok.code, ok.stderr).toBe(0);
    expect(storage().map((s) => s.status)).toEqual([503, 204, 204, 204, 204]);
    expect(sandbox.store.messages(101)[0]!.files).toHaveLength(4);

    sandbox.reset();
    p.cleanup();
    p = project(config());
    sandbox.faults.add({ kind: 'status', status: 500, method: 'POST', path: '/__storage', times: Infinity });
    const failed = await run(p);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/E_DELIVERY/);
    expect(failed.stderr).toMatch(/upload of revenue\.png/);
    expect(sandbox.store.messages(101)).toHaveLength(0);
    expect(sandbox.requests().filter((q) => q.endpoint === 'POST /messages')).toHaveLength(0);

    // The retry of the failed slot, with the storage back, delivers exactly one message.
    sandbox.faults.clear();
    const retried = await run(p);
    expect(retried.code, retried.stderr).toBe(0);
    expect(sandbox.store.messages(101)).toHaveLength(1);
    expect(sandbox.store.messages(101)[0]!.files).toHaveLength(4);
  });

  it('a lost answer to POST /messages with files: deduplicated, the files are attached once', async () => {
    const p = project(config());
    sandbox.faults.add({ kind: 'reset-after', method: 'POST', path: '/messages', times: 1 });
    const r = await run(p);
    expect(r.code, r.stderr).toBe(0);
    const msgs = sandbox.store.messages(101);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.files).toHaveLength(4);
  });

  it('delivery: update replaces the files of the previous run’s message', async () => {
    const p = project(config('delivery: update'));
    expect((await run(p, SLOT1)).code).toBe(0);
    const [first] = sandbox.store.messages(101);
    const firstKeys = first!.files.map((f) => f.key);
    const r = await run(p, SLOT2);
    expect(r.code, r.stderr).toBe(0);
    const msgs = sandbox.store.messages(101);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.id).toBe(first!.id);
    expect(msgs[0]!.files.map((f) => f.name)).toEqual(['revenue.png', 'регионы.md', 'sales-2026-11-24.csv', 'sales.xlsx']);
    expect(msgs[0]!.files.map((f) => f.key).some((k) => firstKeys.includes(k))).toBe(false);
    expect(sandbox.requests().filter((q) => q.endpoint === 'PUT /messages/{id}').map((q) => q.status)).toEqual([200]);
  });
});
