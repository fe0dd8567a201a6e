/**
 * The soak's plot: eight small line charts (memory, throughput, request latency, event-loop delay, notification
 * latency and backlog, timed-expiry lateness, CPU) drawn as inline SVG in one HTML page, which Chromium (Debian's /usr/bin/chromium, through
 * playwright-core, as bench/ui.ts and scripts/screenshots.ts use it) renders and screenshots to a PNG. No browser
 * download and no native image library.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium } from 'playwright-core';
import type { Sample, Verdict } from './report.ts';

const CHROMIUM = '/usr/bin/chromium';
const W = 760;
const H = 260;
const M = { left: 56, right: 16, top: 34, bottom: 30 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

interface Series {
  name: string;
  values: (number | null)[];
  dashed?: boolean;
}

interface Panel {
  title: string;
  unit: string;
  series: Series[];
}

/** Round tick values covering [0, max]. */
function ticks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 5;
  const step = [1, 2, 2.5, 5, 10].map((f) => f * 10 ** Math.floor(Math.log10(raw))).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const label = (v: number) => (v >= 10_000 ? `${v / 1000}k` : String(v));

function chart(panel: Panel, t: number[]): string {
  const all = panel.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const yTicks = ticks(all.length ? Math.max(...all) : 1);
  const yMax = yTicks.at(-1)!;
  const tMax = Math.max(1, ...t);
  // Minutes on the axis, seconds for a short run.
  const per = tMax < 180 ? 1 : 60;
  const xTicks = ticks(tMax / per).filter((m) => m * per <= tMax * 1.0001);
  const x = (s: number) => M.left + (s / tMax) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const grid = yTicks.map((v) => `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e3e3"/>` +
    `<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${label(v)}</text>`).join('');
  const xAxis = xTicks.map((m) => `<line x1="${x(m * per)}" x2="${x(m * per)}" y1="${H - M.bottom}" y2="${H - M.bottom + 4}" stroke="#888"/>` +
    `<text x="${x(m * per)}" y="${H - M.bottom + 16}" text-anchor="middle">${m}</text>`).join('');
  const lines = panel.series.map((s, i) => {
    const pts = s.values.map((v, k) => (v === null || !Number.isFinite(v) ? null : `${x(t[k]!).toFixed(1)},${y(v).toFixed(1)}`));
    // A gap where a value is missing.
    const runs = pts.join(' ').split(/\s*null\s*/).map((r) => r.trim()).filter(Boolean);
    return runs.map((r) => `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${r}"/>`).join('');
  }).join('');
  const legend = panel.series.map((s, i) => `<tspan fill="${COLORS[i % COLORS.length]}" dx="${i ? 14 : 0}">■ ${esc(s.name)}</tspan>`).join('');
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">
<text x="${M.left}" y="16" class="title">${esc(panel.title)} <tspan class="unit">(${esc(panel.unit)})</tspan></text>
<text x="${W - M.right}" y="16" text-anchor="end">${legend}</text>
${grid}<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#888"/>${xAxis}
<text x="${W - M.right}" y="${H - 2}" text-anchor="end" class="unit">${per === 1 ? 'seconds' : 'minutes'}</text>${lines}</svg>`;
}

function panels(samples: Sample[]): Panel[] {
  const v = (f: (s: Sample) => number | null) => samples.map(f);
  return [
    { title: 'Server memory', unit: 'MB', series: [
      { name: 'RSS', values: v((s) => s.rssMb) }, { name: 'V8 heap allocated', values: v((s) => s.heapTotalMb), dashed: true }, { name: 'V8 heap used', values: v((s) => s.heapMb) },
      { name: 'live heap (after a major collection)', values: v((s) => s.liveMb), dashed: true },
    ] },
    { title: 'Throughput', unit: 'per second', series: [{ name: 'requests answered', values: v((s) => s.rps) }, { name: 'notification items received', values: v((s) => s.receivedPerS) }] },
    { title: 'Request latency per interval (from the instant each was due)', unit: 'ms', series: [{ name: 'p50', values: v((s) => s.p50) }, { name: 'p99', values: v((s) => s.p99) }] },
    { title: 'Server event-loop delay (10 ms: none, the monitor\'s resolution)', unit: 'ms', series: [
      { name: 'p99', values: v((s) => s.loopP99Ms) }, { name: 'max', values: v((s) => s.loopMaxMs), dashed: true },
    ] },
    { title: 'Notification latency (probe write answered → item at the receiver)', unit: 'ms', series: [
      { name: 'p50', values: v((s) => s.probe.p50) }, { name: 'p99', values: v((s) => s.probe.p99) }, { name: 'max', values: v((s) => s.probe.max), dashed: true },
    ] },
    { title: 'Notification backlog', unit: 'items', series: [
      { name: 'outbox', values: v((s) => s.outbox) }, { name: 'deliveries', values: v((s) => s.queue) },
      { name: 'lowest (read every 250 ms)', values: v((s) => s.backlogLow ?? null) },
      { name: 'highest', values: v((s) => s.backlogHigh ?? null), dashed: true },
    ] },
    { title: 'Timed-expiry lateness (transition − expiry instant)', unit: 'ms', series: [
      { name: 'p50', values: v((s) => s.expiry.p50) }, { name: 'max', values: v((s) => s.expiry.max) },
    ] },
    { title: 'CPU', unit: '% of one core', series: [
      { name: 'server', values: v((s) => s.serverCpuPct) }, { name: 'server waiting for a core', values: v((s) => s.serverWaitPct) },
      { name: 'bench (load, receiver)', values: v((s) => s.benchCpuPct), dashed: true },
    ] },
  ];
}

/** The page: a heading, the verdicts, the charts in two columns. */
export function chartPage(samples: Sample[], heading: string, verdictList: Verdict[], warning: string | null): string {
  const t = samples.map((s) => s.t);
  const verdictHtml = verdictList.map((vd) => `<li class="${vd.ok === false ? 'bad' : ''}">${esc(vd.line)}</li>`).join('') +
    (warning ? `<li class="bad">${esc(warning)}</li>` : '');
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body { margin: 16px; font: 13px system-ui, sans-serif; color: #222; background: #fff; width: ${2 * W + 16}px; }
h1 { font-size: 17px; margin: 0 0 4px; } ul { margin: 4px 0 10px; padding-left: 18px; } li.bad { color: #b00; }
.grid { display: grid; grid-template-columns: ${W}px ${W}px; gap: 8px 16px; }
svg text { font: 11px system-ui, sans-serif; fill: #444; } svg .title { font-size: 13px; font-weight: 600; fill: #222; } svg .unit { font-weight: 400; fill: #777; }
</style></head><body><h1>${esc(heading)}</h1><ul>${verdictHtml}</ul><div class="grid">${panels(samples).map((p) => chart(p, t)).join('')}</div></body></html>`;
}

/** Renders the page in Chromium and writes the screenshot to `file`. */
export async function writePng(file: string, html: string): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 2 * W + 48, height: 600 }, deviceScaleFactor: 1 });
    await page.setContent(html);
    await page.screenshot({ path: file, fullPage: true });
  } finally {
    await browser.close();
  }
}

/** The page itself, for a machine without Chromium (or to look at in a browser). */
export function writeHtml(file: string, html: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, html);
}
