// Chart rendering: the in-process renderer (ECharts SSR → SVG → resvg PNG) against a headless
// Chromium drawing the same ECharts option, in the same run. A line chart of 365 days, 2 series.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const COUNT = 100;

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 10) / 10;
};

/** Runs in a child (`node bench/charts.mjs --child`) so its peak RSS is the renderer's alone. */
async function child() {
  const { renderChart } = await import(join(root, 'dist/attachments/chart.js'));
  const rows = Array.from({ length: 365 }, (_, i) => ({
    date: new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10),
    revenue: 1_000_000 + Math.round(Math.sin(i / 9) * 250_000 + i * 1500),
    plan: 1_100_000 + i * 1200,
  }));
  const spec = { type: 'line', data: 'metrics.rows', x: 'date', y: ['revenue', 'plan'], labels: { revenue: 'Факт', plan: 'План' }, stacked: false, format: 'currency', width: 800, height: 450, density: 1, maxPoints: 1000 };
  const opts = { locale: 'ru-RU', timezone: 'Europe/Moscow' };
  const t0 = performance.now();
  renderChart(spec, rows, 'Выручка, ₽', opts);
  const firstMs = performance.now() - t0;
  const times = [];
  let peak = process.memoryUsage().rss;
  let bytes = 0;
  for (let i = 0; i < COUNT; i++) {
    const t = performance.now();
    const img = renderChart(spec, rows, 'Выручка, ₽', opts);
    times.push(performance.now() - t);
    bytes = img.png.length;
    peak = Math.max(peak, process.memoryUsage().rss);
    // As renderAttachments does between charts: resvg's native memory is freed by finalizers that
    // run when the event loop turns (a synchronous loop of 100 charts held ~3 MB per chart).
    await new Promise((r) => setImmediate(r));
  }
  // Peak of the 100-chart loop only (the 2× renders below are not part of the goal).
  const peakRssMb = Math.round(Math.max(peak, process.resourceUsage().maxRSS * 1024) / 2 ** 20);
  const times2x = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    renderChart({ ...spec, density: 2 }, rows, 'Выручка, ₽', opts);
    times2x.push(performance.now() - t);
  }
  process.stdout.write(JSON.stringify({ firstMs: Math.round(firstMs), times, times2x, peakRssMb, pngBytes: bytes, loadAverage: loadavg()[0] }));
}

async function chromium(rowsJs) {
  const exe = '/usr/bin/chromium';
  if (!existsSync(exe)) return { skipped: 'no /usr/bin/chromium' };
  const { chromium: pw } = await import('playwright-core');
  const t0 = performance.now();
  // A server, not launch(): its process id gives the browser's process tree for RSS.
  const server = await pw.launchServer({ executablePath: exe, args: ['--no-sandbox', '--font-render-hinting=none'] });
  const browser = await pw.connect(server.wsEndpoint());
  const launchMs = Math.round(performance.now() - t0);
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 450 }, deviceScaleFactor: 1 });
    const lib = readFileSync(join(root, 'node_modules/echarts/dist/echarts.min.js'), 'utf8');
    await page.setContent(`<!doctype html><html><body style="margin:0"><div id="c" style="width:800px;height:450px"></div><script>${lib}</script><script>${rowsJs}</script></body></html>`);
    const times = [];
    for (let i = 0; i < 21; i++) {
      const t = performance.now();
      await page.evaluate(() => window.draw());
      await page.locator('#c').screenshot({ type: 'png' });
      if (i > 0) times.push(performance.now() - t); // the first is warm-up
    }
    const rssMb = browserRssMb(server.process().pid);
    return { launchMs, p50Ms: pct(times, 50), p95Ms: pct(times, 95), rssMb };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** RSS of the browser and all its descendants (renderer, GPU, utility processes). */
function browserRssMb(pid) {
  if (!pid) return null;
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=,rss='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, pp] of table) {
      if (tree.has(pp) && !tree.has(p)) {
        tree.add(p);
        grew = true;
      }
    }
  }
  return Math.round(table.filter(([p]) => tree.has(p)).reduce((s, [, , rss]) => s + rss, 0) / 1024);
}

const PAGE_JS = `
const nf = new Intl.NumberFormat('ru-RU', { style: 'currency', currency: 'RUB', maximumFractionDigits: 1, notation: 'compact' });
const rows = Array.from({ length: 365 }, (_, i) => [Date.UTC(2026, 0, 1 + i), 1000000 + Math.round(Math.sin(i / 9) * 250000 + i * 1500), 1100000 + i * 1200]);
const chart = echarts.init(document.getElementById('c'), null, { renderer: 'canvas' });
window.draw = () => chart.setOption({ animation: false, backgroundColor: '#fff', title: { text: 'Выручка, ₽' }, legend: { bottom: 8 },
  xAxis: { type: 'time' }, yAxis: { type: 'value', axisLabel: { formatter: (v) => nf.format(v) } },
  series: [{ type: 'line', name: 'Факт', showSymbol: false, data: rows.map((r) => [r[0], r[1]]) }, { type: 'line', name: 'План', showSymbol: false, data: rows.map((r) => [r[0], r[2]]) }] }, true);
`;

export async function runChartsBench() {
  const out = await new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    c.stdout.on('data', (d) => (text += d));
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text)) : reject(new Error(`chart bench child exited ${code}`))));
  });
  const browser = await chromium(PAGE_JS);
  return {
    chart: 'line, 365 points, 2 series, 800×450 PNG',
    charts: COUNT,
    firstChartMs: out.firstMs,
    p50Ms: pct(out.times, 50),
    p95Ms: pct(out.times, 95),
    density2x: { p50Ms: pct(out.times2x, 50), p95Ms: pct(out.times2x, 95) },
    peakRssMb: out.peakRssMb,
    pngBytes: out.pngBytes,
    // Other processes share the 2 cores: the 1-minute load average while measuring, for reading the times.
    loadAverage: Math.round(out.loadAverage * 10) / 10,
    chromium: browser,
  };
}

if (process.argv.includes('--child')) await child();
